"""跨平台登录 Sign-in across the platforms of a province, by deployment mode (ADR 0114)."""
