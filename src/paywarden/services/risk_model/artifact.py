"""The model file: the booster's text and its metadata, signed by a detached JWS.

File ``model.json`` (compact, sorted keys)::

    {"format": "paywarden-risk-model/1",
     "metadata": {"version", "features", "threshold", "seed", "metrics", ...},
     "booster": "<LightGBM model text>"}

and beside it ``model.json.jws``: a compact JWS with a detached payload (RFC 7515
appendix F): ``header..signature`` over the file's exact bytes, header
``{"alg": "Ed25519", "kid", "typ": "paywarden-risk-model+jws", "version"}``, signed by the
keyring's ``models`` key (or any Ed25519 key the caller trusts). Loading refuses a file
whose signature does not verify, whose version differs from the header's or the one
asked for, or whose feature list differs from :data:`features.FEATURES` or the booster's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from joserfc.util import urlsafe_b64decode, urlsafe_b64encode

from ...domain.errors import PayWardenError
from .features import FEATURES

FORMAT = "paywarden-risk-model/1"
TYPE = "paywarden-risk-model+jws"
ALGORITHM = "Ed25519"
FILE_BYTES_MAX = 64 * 1024 * 1024  # a model is a few MB; more is refused before parsing


class ModelRefused(PayWardenError):
    """The model file is not one this platform signed, or not the one the engine expects:
    the engine keeps its previous model (or fails over per its written fallback)."""


class SignerLike(Protocol):
    @property
    def key_id(self) -> str: ...

    def sign(self, data: bytes) -> bytes: ...


PublicKeyFor = Callable[[str], Ed25519PublicKey | None]


@dataclass(frozen=True)
class Artifact:
    metadata: dict[str, Any]
    booster_text: str

    @property
    def version(self) -> str:
        return str(self.metadata["version"])

    def to_bytes(self) -> bytes:
        body = {"format": FORMAT, "metadata": self.metadata, "booster": self.booster_text}
        return json.dumps(body, sort_keys=True, separators=(",", ":"),
                          allow_nan=False).encode("utf-8")


def _b64(data: bytes) -> str:
    return urlsafe_b64encode(data).decode("ascii")


def sign(file_bytes: bytes, version: str, signer: SignerLike) -> str:
    header = json.dumps({"alg": ALGORITHM, "kid": signer.key_id, "typ": TYPE,
                         "version": version}, sort_keys=True, separators=(",", ":"))
    protected = _b64(header.encode("utf-8"))
    signature = signer.sign(f"{protected}.{_b64(file_bytes)}".encode("ascii"))
    return f"{protected}..{_b64(signature)}"


def save(artifact: Artifact, path: Path, signer: SignerLike) -> Path:
    """Write the model and its detached signature; the signature's path is returned."""
    data = artifact.to_bytes()
    path.write_bytes(data)
    sig_path = signature_path(path)
    sig_path.write_text(sign(data, artifact.version, signer) + "\n", encoding="ascii")
    return sig_path


def signature_path(path: Path) -> Path:
    return path.with_name(path.name + ".jws")


def verify_bytes(file_bytes: bytes, jws: str, public_key_for: PublicKeyFor, *,
                 version: str | None = None) -> Artifact:
    """The artifact, if every check passes; :class:`ModelRefused` naming the first that
    fails (no key material in the message)."""
    if len(file_bytes) > FILE_BYTES_MAX:
        raise ModelRefused("the model file is too large")
    parts = jws.strip().split(".")
    if len(parts) != 3 or parts[1] != "":
        raise ModelRefused("the signature is not a detached compact JWS")
    try:
        header = json.loads(urlsafe_b64decode(parts[0].encode("ascii")))
        signature = urlsafe_b64decode(parts[2].encode("ascii"))
    except (ValueError, UnicodeError):
        raise ModelRefused("the signature is unreadable") from None
    if not isinstance(header, dict) or header.get("alg") != ALGORITHM or header.get(
            "typ") != TYPE:
        raise ModelRefused("the signature is not a model signature")
    kid = header.get("kid")
    key = public_key_for(kid) if isinstance(kid, str) and len(kid) <= 64 else None
    if key is None:
        raise ModelRefused("the model is not signed by a model key of this platform")
    try:
        key.verify(signature, f"{parts[0]}.{_b64(file_bytes)}".encode("ascii"))
    except InvalidSignature:
        raise ModelRefused("the signature does not verify: the model file was changed"
                           ) from None
    return _checked(file_bytes, str(header.get("version")), version)


def _checked(file_bytes: bytes, signed_version: str, version: str | None) -> Artifact:
    try:
        body = json.loads(file_bytes)
        metadata, booster_text = body["metadata"], body["booster"]
        if body["format"] != FORMAT or not isinstance(metadata, dict):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise ModelRefused("the file is not a risk model") from None
    artifact = Artifact(metadata=metadata, booster_text=str(booster_text))
    if artifact.version != signed_version:
        raise ModelRefused("the model's version is not the signed one")
    if version is not None and artifact.version != version:
        raise ModelRefused(f"the model is version {artifact.version}, not {version}")
    if tuple(metadata.get("features", ())) != FEATURES:
        raise ModelRefused("the model's feature list is not the engine's")
    return artifact


def load(path: Path, public_key_for: PublicKeyFor, *, version: str | None = None
         ) -> Artifact:
    try:
        with path.open("rb") as f:
            data = f.read(FILE_BYTES_MAX + 1)
        jws = signature_path(path).read_text(encoding="ascii")
    except (OSError, UnicodeError):
        raise ModelRefused("the model file or its signature cannot be read") from None
    return verify_bytes(data, jws, public_key_for, version=version)
