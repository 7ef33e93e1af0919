"""Organizations (agencies and partners), their people, and partnerships."""
