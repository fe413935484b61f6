"""PayWarden: a self-hosted, security-first payment platform."""

__version__ = "0.1.0"
