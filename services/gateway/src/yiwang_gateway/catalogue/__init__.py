"""事项目录 Catalogue: the portal's copy of published items (实施清单 + 办事指南)."""
