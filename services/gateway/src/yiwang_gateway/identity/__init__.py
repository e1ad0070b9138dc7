"""身份认证 Identity: sign-in, sessions, refresh tokens, SMS codes, signing keys (ADR 0103)."""
