"""Response bodies of the staff's queues (api/staff_queue_routes.py): disputes to decide and
certification applications to decide on."""

from __future__ import annotations

from pydantic import BaseModel, Field


class DisputeOut(BaseModel):
    reason: str = Field(examples=["not_as_described"])
    detail: str = Field(examples=["The lamp arrived broken."])
    buyer_evidence_refs: list[str] = Field(examples=[["photo-1.jpg"]])
    opened_at: str = Field(examples=["2026-11-29T10:00:00.000000000Z"])
    status: str = Field(examples=["answered"], description="open: waiting for the merchant's "
                        "answer (staff may decide anyway); answered: waiting for staff")
    statement: str | None = Field(examples=["It left here intact."])
    merchant_evidence_refs: list[str] = Field(examples=[["packing-video.mp4"]])
    answered_at: str | None = Field(examples=["2026-11-29T15:00:00.000000000Z"])
    held_at_open: int = Field(examples=[5000], description="minor units held when opened")


class DisputedOut(BaseModel):
    payment_id: str = Field(examples=["pay_0a1b2c3d4e5f6a7b8c9d0e1f"])
    merchant_id: str = Field(examples=["mer_0a1b2c3d4e5f6a7b"])
    buyer_id: str | None = Field(examples=["usr_0a1b2c3d4e5f6a7b"])
    amount: int = Field(examples=[5000], description="the payment, in minor units")
    held: int = Field(examples=[5000], description="what the dispute holds, in minor units: "
                      "a split's refund and release add up to it")
    currency: str = Field(examples=["EUR"])
    dispute: DisputeOut
    pending_approval_id: str | None = Field(
        examples=[None], description="a decision submitted and waiting for a second person")


class DisputesOut(BaseModel):
    data: list[DisputedOut]


class DomainStateOut(BaseModel):
    domain: str = Field(examples=["shop.example"])
    verified_at: str | None = Field(examples=["2026-11-28T09:00:00.000000000Z"])
    check_error: str | None = Field(examples=[None])


class CertificateStateOut(BaseModel):
    serial: str = Field(examples=["5f1c0a9e2b7d4c3a"])
    status: str = Field(examples=["active"])
    not_after: str = Field(examples=["2027-11-29T09:00:00.000000000Z"])
    reason: str | None = Field(examples=[None])


class QueuedOut(BaseModel):
    merchant_id: str = Field(examples=["mer_0a1b2c3d4e5f6a7b"])
    status: str = Field(examples=["submitted"])
    legal_name: str = Field(examples=["Shop Example Ltd"])
    registration_number: str = Field(examples=["HRB 4711"])
    submitted_at: str = Field(examples=["2026-11-28T08:00:00.000000000Z"])
    decided_at: str | None = Field(examples=[None])
    reason: str | None = Field(examples=[None])
    domains: list[DomainStateOut]
    certificate: CertificateStateOut | None


class QueueOut(BaseModel):
    data: list[QueuedOut]
