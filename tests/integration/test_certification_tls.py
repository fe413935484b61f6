"""Domain verification over https: the request goes to the checked address, yet TLS still
verifies the certificate of the domain (SNI and hostname check use the domain)."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from paywarden.domain.errors import DomainError
from paywarden.services.certification.verification import WELL_KNOWN_PATH, Fetcher

TOKEN = b"pwv_tls-token"


def _certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
                 signer: ec.EllipticCurvePrivateKey, *, ca: bool, names: list[str]
                 ) -> x509.Certificate:
    now = datetime.now(UTC)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(minutes=5))
               .not_valid_after(now + timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
    return builder.sign(signer, hashes.SHA256())


@pytest.fixture(params=[["localhost"], ["elsewhere.example"]], ids=["right", "wrong"])
def tls_site(request: pytest.FixtureRequest, tmp_path: Path
             ) -> Iterator[tuple[int, ssl.SSLContext, bool]]:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = _certificate("test CA", ca_key, ca_name, ca_key, ca=True, names=[])
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate("site", key, ca_name, ca_key, ca=False, names=request.param)
    (tmp_path / "site.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "site.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = TOKEN if self.path == WELL_KNOWN_PATH else b"no"
            self.send_response(200 if self.path == WELL_KNOWN_PATH else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "site.pem", tmp_path / "site.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    trust = ssl.create_default_context(cadata=ca.public_bytes(
        serialization.Encoding.PEM).decode())
    try:
        yield server.server_address[1], trust, request.param == ["localhost"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_https_verification_checks_the_domains_certificate(
        tls_site: tuple[int, ssl.SSLContext, bool]) -> None:
    port, trust, right_name = tls_site
    fetcher = Fetcher(scheme="https", port=port, timeout_s=5.0, body_bytes_max=1024,
                      allow_private=True, verify=trust)
    if right_name:
        fetcher.check("localhost", TOKEN.decode())
        return
    with pytest.raises(DomainError) as caught:
        fetcher.check("localhost", TOKEN.decode())
    assert caught.value.code == "domain_unreachable"
