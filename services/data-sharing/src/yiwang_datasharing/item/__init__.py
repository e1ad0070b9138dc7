"""事项范围 Item scope: which unit implements an item and in which region, for access checks."""
