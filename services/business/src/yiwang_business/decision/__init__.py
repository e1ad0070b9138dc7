"""决定 Decisions: the 决定书 that ends a case in this system."""
