"""The staff lifecycle: joiners, movers, leavers, the access review and service
credentials (decision 0043)."""

from .credentials import ServiceCredential, redeem
from .lifecycle import Deactivated, Joined, deactivate, join
from .roles import RoleGrant, change_roles

__all__ = ["Deactivated", "Joined", "RoleGrant", "ServiceCredential", "change_roles",
           "deactivate", "join", "redeem"]
