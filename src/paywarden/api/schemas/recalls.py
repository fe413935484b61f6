"""Request and response bodies of recalls (api/recall_routes.py, decision 0061)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from . import Strict

UETR = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
CODE = r"^[A-Z0-9]{4}$"


class RecallIn(Strict):
    uetr: str = Field(pattern=UETR, description="Our settled transfer to another bank",
                      examples=["3f1c2a7e-5b9d-4e21-8c3a-0d6f4b2e9a17"])
    reason: str = Field(pattern=CODE, description="ISO cancellation reason: DUPL, FRAD, "
                        "TECH, CUST, AC03 or AM09", examples=["DUPL"])
    amount: int | None = Field(default=None, gt=0, description="Minor units; the whole "
                               "transfer when left out", examples=[12_34])


class RefuseIn(Strict):
    reason: str = Field(pattern=CODE, description="ISO rejection reason: CUST, LEGL, AGNT, "
                        "NOAS, AC04, AM04, ARDT or NOOR", examples=["CUST"])


class RecallOut(BaseModel):
    case_id: str = Field(examples=["5f0c9a7d2b1e4c8a9d3f6e215f0c9a7d"])
    original_uetr: str = Field(examples=["3f1c2a7e-5b9d-4e21-8c3a-0d6f4b2e9a17"])
    role: Literal["requested", "relayed", "received"] = Field(
        description="requested: we asked; received: another bank asks us; relayed: a hub's")
    from_: str | None = Field(alias="from", examples=["HUBAEUR1"])
    to: str | None = Field(examples=["HUBAEUR1"])
    amount: int = Field(examples=[12_34])
    currency: str = Field(examples=["EUR"])
    reason: str = Field(examples=["DUPL"])
    state: Literal["open", "accepted", "refused"]
    answer_reason: str | None = Field(examples=["CUST"])
    return_id: str | None = Field(description="The return that said yes (the payee's bank)")
    undelivered: bool = Field(description="A message of the case is still to be delivered; "
                              "the node sends it again")
    created_by: str = Field(examples=["usr_0a1b2c3d4e5f6a7b"])
    created_at: int = Field(description="ns since the epoch")
    updated_at: int


class RecallsOut(BaseModel):
    data: list[RecallOut]
