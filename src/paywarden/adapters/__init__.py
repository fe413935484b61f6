"""Adapters: storage, clock and (later) crypto and notifications."""
