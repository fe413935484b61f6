"""The software WebAuthn authenticator lives in ``paywarden.testing`` (the benchmarks use it
too); re-exported here so the tests import it from their support package."""

from paywarden.testing.authenticator import FLAG_UV, SoftAuthenticator

__all__ = ["FLAG_UV", "SoftAuthenticator"]
