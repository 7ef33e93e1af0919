"""The home page: what needs attention now, for each kind of user."""
