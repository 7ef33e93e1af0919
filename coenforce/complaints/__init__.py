"""Retaliation complaints and their 48-hour response clock."""
