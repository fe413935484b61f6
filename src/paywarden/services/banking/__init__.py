"""Online banking (issue 11): accounts, movements, the rail, the screening hook."""

from .accounts import BankAccount, BankAccounts, Product, State
from .movements import Movement, MovementKind, MovementResult, Movements, MovementState
from .rail import RailLink
from .screening import AllowAll, Decision, Screen, Screening
from .service import Banking

__all__ = ["AllowAll", "BankAccount", "BankAccounts", "Banking", "Decision", "Movement",
           "MovementKind", "MovementResult", "MovementState", "Movements", "Product",
           "RailLink", "Screen", "Screening", "State"]
