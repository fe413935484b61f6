"""Delivering messages to people outside the platform."""
