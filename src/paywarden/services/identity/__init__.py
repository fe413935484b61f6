"""Identity services: sessions, sign-in factors, passkeys and step-up, notifications."""

from .sessions import NewSession, SessionInfo, Sessions

__all__ = ["NewSession", "SessionInfo", "Sessions"]
