"""Online banking rules (issue 11): pure, no I/O."""
