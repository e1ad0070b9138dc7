"""事项检索 Search: an in-process index over the catalogue copy (我要查 / 我要办).

``engine``, ``analysis`` and ``dictionary`` know nothing of FastAPI or SQLAlchemy; the rest wires them
to the catalogue table, its events and the REST API. Decision and measurements: docs/adr/0015.
"""
