"""事项清单 Catalogue: 目录清单 entries and versioned 实施清单 entries (谁编制、谁维护; ADR 0018)."""
