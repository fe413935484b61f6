"""Escrow payments: checkout sessions, transitions that move money, timers."""

from .accounts import AccountRef, platform_account
from .service import Checkout, Party, Payments, PaymentView

__all__ = ["AccountRef", "Checkout", "Party", "PaymentView", "Payments", "platform_account"]
