"""Online banking (issue 11)."""
