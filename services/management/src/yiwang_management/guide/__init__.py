"""办事指南 Service guides generated from the published 实施清单 version (JSON, HTML, PDF)."""
