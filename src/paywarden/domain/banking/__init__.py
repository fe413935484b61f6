"""Pure rules of online banking (issue 11): no I/O, no framework."""
