"""Risk rules: pure, no I/O (sanctions name matching, circuit breakers)."""
