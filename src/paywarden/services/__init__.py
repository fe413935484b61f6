"""Use cases. Each call is one unit of work: one transaction, or nothing."""
