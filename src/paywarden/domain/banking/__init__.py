"""Online banking's pure rules (issue 11)."""
