"""Request bodies of sign-in, sign-up, a user's factors and passkeys
(api/signin_routes.py, api/factor_routes.py, api/passkey_routes.py)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, model_validator

from ...services.identity.password_signin import SecondFactor
from ..text import Line
from . import Strict

PASSWORD_CHARS_MAX = 1024  # the policy allows 256; beyond this the request is malformed
CODE_CHARS_MAX = 64
CeremonyId = Annotated[str, Field(pattern=r"^chl_[0-9a-f]{16}$")]


class SecondFactorIn(Strict):
    totp: str | None = Field(default=None, min_length=1, max_length=CODE_CHARS_MAX)
    recovery_code: str | None = Field(default=None, min_length=1, max_length=CODE_CHARS_MAX)

    @model_validator(mode="after")
    def _one_at_most(self) -> SecondFactorIn:
        if self.totp is not None and self.recovery_code is not None:
            raise ValueError("give a totp code or a recovery code, not both")
        return self

    def factor(self) -> SecondFactor:
        return SecondFactor(totp=self.totp, recovery_code=self.recovery_code)


class PasswordSignInIn(SecondFactorIn):
    username: str = Field(min_length=1, max_length=256)
    password: str = Field(min_length=1, max_length=PASSWORD_CHARS_MAX)


class ResetIn(SecondFactorIn):
    username: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=PASSWORD_CHARS_MAX)


class SignUpIn(Strict):
    username: Line = Field(min_length=1, max_length=256)
    display_name: Line = Field(min_length=1, max_length=256)
    email: Line | None = Field(default=None, max_length=254)
    password: str | None = Field(default=None, min_length=1, max_length=PASSWORD_CHARS_MAX)


class PasswordIn(Strict):
    new_password: str = Field(min_length=1, max_length=PASSWORD_CHARS_MAX)
    current_password: str | None = Field(default=None, min_length=1,
                                         max_length=PASSWORD_CHARS_MAX)
    totp: str | None = Field(default=None, min_length=1, max_length=CODE_CHARS_MAX)


class CodeIn(Strict):
    code: str = Field(min_length=1, max_length=CODE_CHARS_MAX)


class FreshIn(Strict):
    totp: str | None = Field(default=None, min_length=1, max_length=CODE_CHARS_MAX)


class PhraseIn(Strict):
    phrase: Line = Field(max_length=256)


class CredentialIn(Strict):
    ceremony_id: CeremonyId
    credential: dict[str, Any] = Field(description="PublicKeyCredential.toJSON() of the browser")


class RegisterIn(CredentialIn):
    name: Line = Field(default="passkey", min_length=1, max_length=64)


class RenameIn(Strict):
    name: Line = Field(min_length=1, max_length=64)


class SignInOptionsIn(Strict):
    username: str | None = Field(default=None, min_length=1, max_length=64)


class StepUpOptionsIn(Strict):
    type: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$", examples=["payment"])
    amount: int = Field(ge=0, le=2**53 - 1, description="minor units, e.g. 10000 = 100.00 EUR")
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])
    payee: Line = Field(min_length=1, max_length=128)
    reference: Line = Field(default="", max_length=140)
