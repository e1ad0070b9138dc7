"""工作人员统一登录 The staff console's one sign-in (ADR 0016): the token issuer's page."""
