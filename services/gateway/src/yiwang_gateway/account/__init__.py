"""账户 Accounts: demo real-name identities of applicants and staff, and token issuing."""
