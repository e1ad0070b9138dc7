"""事项管理工作台 The staff console's catalogue pages (ADR 0016): server-rendered, under /console/manage."""
