"""门户网页 The citizen portal's pages: server-rendered HTML (Jinja2) with htmx where it helps.

Pages live outside ``/api/v1`` and never replace the API: they read the same catalogue
projection through the catalogue domain's services. See docs/adr/0017-web-layer.md.
"""
