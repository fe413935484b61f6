"""Bodies of a clearing hub's back office (api/hub_routes.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from . import Strict


class ParticipantOut(BaseModel):
    bic: str = Field(examples=["PWAAEUR2"])
    role: Literal["participant", "hub"] = Field(
        description="participant: a bank of this region; hub: another region's hub")
    state: Literal["active", "suspended", "revoked"]
    currency: str = Field(examples=["EUR"])
    channel: Literal["RTGS", "MPNS"] = Field(
        description="RTGS: settled gross at once; MPNS: netted in windows")
    settlement: int = Field(description="The settlement account's posted balance, minor "
                            "units", examples=[500_000_00])
    reserved: int = Field(description="Reserved against it by transfers in flight",
                          examples=[1_200_00])
    net_position: int = Field(description="Credits − debits over the unsettled windows",
                              examples=[-300_00])
    cap: int = Field(description="The net debit cap", examples=[100_000_00])


class WindowOut(BaseModel):
    id: str = Field(examples=["EUR-7"])
    currency: str = Field(examples=["EUR"])
    state: Literal["open", "closed", "settled"]
    opened_ns: int = Field(description="ns since the epoch")
    closed_ns: int | None
    settled_ns: int | None


class HubOut(BaseModel):
    participants: list[ParticipantOut]
    windows: list[WindowOut] = Field(description="The newest twenty, newest first")
    transfers: dict[str, int] = Field(description="Transfers by state",
                                      examples=[{"settled": 10_238, "reserved": 3}])
    net_positions_sum: int = Field(description="Always 0: what one owes another is owed",
                                   examples=[0])
    notices_owed: int = Field(description="Booking notifications (camt.054) still to be "
                              "delivered to participants", examples=[0])


class CloseIn(Strict):
    window_id: str | None = Field(default=None, max_length=40, examples=["EUR-7"],
                                  description="Close this window only: once it is closed "
                                  "it is answered as it stands (a retry closes nothing "
                                  "more). Without it, whichever window is open is closed.")


class ClosedOut(BaseModel):
    id: str = Field(examples=["EUR-7"])
    currency: str = Field(examples=["EUR"])
    state: Literal["closed", "settled"] = Field(description="settled: the window named "
                                                "was closed and settled before")
    closed_ns: int | None = Field(description="ns since the epoch")
