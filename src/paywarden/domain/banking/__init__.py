"""Online banking's pure rules (issue 11): no I/O."""
