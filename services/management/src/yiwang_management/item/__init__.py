"""事项 Item catalogue: 实施清单 entries with their 办事指南, published by version."""
