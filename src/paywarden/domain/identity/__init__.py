"""Identity and access rules: principals, the access policy, sign-in rules."""

from .policy import (
    KIND_ROLES,
    MERCHANT_USER_ROLES,
    ROLES,
    STAFF_ROLES,
    Access,
    Decision,
    Resource,
    decide,
)
from .principal import Kind, Principal

__all__ = ["KIND_ROLES", "MERCHANT_USER_ROLES", "ROLES", "STAFF_ROLES", "Access", "Decision",
           "Kind", "Principal", "Resource", "decide"]
