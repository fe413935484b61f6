"""Escrow payments: checkout sessions, transitions that move money, refunds by id, timers."""

from .refunds import RefundRecord
from .service import Checkout, Finish, Party, Payments, PaymentView, RefundDone
from .timers import ParkedPayment

__all__ = ["Checkout", "Finish", "ParkedPayment", "Party", "PaymentView", "Payments",
           "RefundDone", "RefundRecord"]
