"""Errors of the webhook service.

    DomainError
    └── WebhookRefused   code: url_invalid | url_scheme_refused | url_address_refused |
                               event_type_invalid | payload_invalid | not_found
"""

from __future__ import annotations

from ...domain.errors import DomainError


class WebhookRefused(DomainError):
    """A webhook request the rules refuse; ``code`` says which rule."""
