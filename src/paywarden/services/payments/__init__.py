"""Escrow payments: checkout sessions, transitions that move money, refunds by id, timers."""

from .accounts import AccountRef, platform_account
from .refunds import RefundRecord
from .service import Checkout, Finish, Party, Payments, PaymentView, RefundDone
from .timers import ParkedPayment

__all__ = ["AccountRef", "Checkout", "Finish", "ParkedPayment", "Party", "PaymentView",
           "Payments", "RefundDone", "RefundRecord", "platform_account"]
