"""The card vault: card numbers sealed behind ``card_…`` tokens."""

from .vault import Card, CardNotFound, CardVault, IssuerView

__all__ = ["Card", "CardNotFound", "CardVault", "IssuerView"]
