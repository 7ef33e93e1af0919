"""Login, API tokens, passwords and the one permission policy."""
