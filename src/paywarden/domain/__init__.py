"""Pure rules and state machines. Imports only the standard library."""
