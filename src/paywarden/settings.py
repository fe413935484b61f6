"""Settings: one object, built once at start-up from ``PAYWARDEN_*`` variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, IPvAnyNetwork, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .origins import DEFAULT_PORT, check_origin, check_rp_id, origin_for, rp_id_for

DATABASES = "sqlite:///path/to/paywarden.db or postgresql+psycopg://user@host/name"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAYWARDEN_", extra="ignore", frozen=True)

    data_dir: Path = Field(default=Path("var"), description="Where the SQLite file and keys live")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite in data_dir"
    )
    host: str = Field(default="127.0.0.1", description="The address to listen on; its "
                      "origin (PAYWARDEN_PUBLIC_URL's default) is http://localhost:<port>")
    port: int = Field(default=DEFAULT_PORT, ge=1, le=65_535)
    log_level: str = "info"
    log_json: bool | None = Field(default=None, description="JSON logs; default: when not a TTY")
    ledger_queue_depth_max: int = Field(default=1_024, ge=1, le=1_000_000)
    ledger_expiry_interval_s: float = Field(default=1.0, gt=0, le=60)
    ledger_wait_s: float = Field(default=10.0, gt=0, le=300, description="Longest wait for "
                                 "the ledger writer's answer, then 503 (retry: same ids)")
    request_body_bytes_max: int = Field(default=8 * 1024 * 1024, ge=1024)
    request_header_bytes_max: int = Field(default=16 * 1024, ge=1024)

    # Identity and access (issue 3)
    # One origin decides signatures, passkeys, pages and evidence (origins.py). Empty: derived.
    public_url: str = Field(default="", validate_default=True, description="The origin "
                            "clients and browsers use; default http://localhost:<port> when "
                            "listening on loopback, required otherwise")
    webauthn_rp_id: str = Field(default="", validate_default=True, description="WebAuthn "
                                "relying party id; default: the public origin's host")
    webauthn_rp_name: str = "PayWarden"
    webauthn_timeout_s: int = Field(default=300, ge=30, le=600)
    session_idle_s: int = Field(default=15 * 60, ge=60, le=24 * 3600)
    session_absolute_s: int = Field(default=12 * 3600, ge=300, le=7 * 24 * 3600)
    staff_token_ttl_s_max: int = Field(default=24 * 3600, ge=60, le=24 * 3600)
    step_up_amount_min: int = Field(default=100_00, ge=0,
                                    description="Minor units above which a payment needs step-up")
    signin_failures_max: int = Field(default=10, ge=3, le=10)
    signin_lock_s: int = Field(default=30 * 60, ge=30 * 60)
    password_hashing_concurrency_max: int = Field(default=4, ge=1, le=64)
    # Argon2id: OWASP's floor is t=2 over 19 MiB; the default is well above it.
    password_time_cost: int = Field(default=3, ge=2, le=10)
    password_memory_kib: int = Field(default=64 * 1024, ge=19 * 1024, le=1024 * 1024)
    password_parallelism: int = Field(default=1, ge=1, le=8)
    password_hashing_wait_s: float = Field(
        default=2.0, gt=0, le=30, description="Wait this long for a hashing slot, then 503 busy")
    signin_address_failures_max: int = Field(
        default=100, ge=10, le=10_000, description="Failed sign-ins from one address before "
        "it is locked out for signin_lock_s")
    signature_window_s: int = Field(default=300, ge=30, le=300)
    nonce_batch_size_max: int = Field(default=256, ge=1, le=256, description=
        "Signature nonces claimed in one transaction (group commit)")
    nonce_claim_wait_s: float = Field(default=5.0, gt=0, le=30, description=
        "A signed request waits this long for its nonce to be recorded, then 503")
    idempotency_ttl_s: int = Field(default=24 * 3600, ge=24 * 3600)
    idempotency_lease_s: int = Field(default=120, ge=10, le=3600,
                                     description="After this, a claim left running is taken over")
    crash_at: str | None = Field(default=None, description="Tests only: the named crash point "
                                 "(e.g. idempotency.after_effect) where the process SIGKILLs "
                                 "itself")
    redis_url: str | None = Field(default=None, description="Shared rate-limit state")
    read_database_url: str | None = Field(default=None, description="Replicas for statements, "
                                          "history and reports (PostgreSQL; decision 0065)")
    read_staleness_s: float = Field(default=5.0, gt=0, le=3600, description="How old a "
                                    "replica's answer may be; else the primary answers")
    pitr_dir: Path | None = Field(default=None, description="Base backups and the WAL archive "
                                  "for point-in-time recovery; default: data_dir/pitr")
    patroni_urls: str = Field(default="", description="Patroni's REST API on each member, "
                              "comma-separated: serve checks its synchronous mode (decision 0065)")
    accept_async_loss: bool = Field(default=False, description="Serve on a PostgreSQL cluster "
                                    "whose failover may lose acknowledged commits")
    release_key: str | None = Field(default=None, description="The release key's public half, "
                                    "ed25519:<base64>: serve checks its files against the "
                                    "manifest it signed (decision 0069)")
    release_manifest: Path | None = Field(default=None, description="The signed release "
                                          "manifest; default: data_dir/release-manifest.json")
    allow_unsigned: bool = Field(default=False, description="Development: serve without a "
                                 "signed manifest (changes while serving are still found)")
    allow_root: bool = Field(default=False, description="Serve as root (refused without it)")
    integrity_interval_s: float = Field(default=120.0, gt=0, le=3600, description="How often a "
                                        "serving process checks its files and their privacy")
    rate_limit_address: str = "1200/minute"  # at least the merchant key's: one backend, one address
    rate_limit_merchant_key: str = "600/minute"
    rate_limit_account: str = "60/minute"
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=list, description="CIDRs whose X-Forwarded-For is believed")
    requests_in_flight_max: int = Field(default=256, ge=1, le=100_000,
                                        description="Per process; beyond it, 503 overloaded")
    connections_max: int = Field(default=2_048, ge=16, le=1_000_000,
                                 description="Per process, open HTTP connections (uvicorn)")
    audit_sign_interval_s: float = Field(default=2.0, gt=0, le=60, description=
        "How often a serving process signs the audit tree's head while it grows")
    key_maintenance_interval_s: float = Field(default=60.0, gt=0, le=3600, description=
        "How often a serving process rotates keys past their cryptoperiod and rewraps records")
    payment_fee_bps: int = Field(default=150, ge=0, le=10_000,
                                 description="Platform fee on release, basis points")
    payment_fee_fixed_minor: int = Field(default=0, ge=0, description="Fixed fee on release")
    checkout_session_ttl_s: int = Field(default=3600, ge=60, le=24 * 3600)
    payment_timer_interval_s: float = Field(default=5.0, gt=0, le=3600, description=
        "How often a serving process applies due payment timers")

    # Online banking (issue 11)
    bank_country: str = Field(default="NL", pattern=r"^[A-Z]{2}$", description="The country "
                              "of the bank's IBANs (ISO 3166 alpha-2)")
    bank_code: str = Field(default="PAYW", pattern=r"^[A-Z0-9]{1,11}$", description="The "
                           "bank code inside the bank's IBANs")
    rail_interval_s: float = Field(default=2.0, gt=0, le=3600, description="How often "
                                   "pending transfers to other banks go to the rail (a clearing "
                                   "bank's link also goes at once, woken by each transfer out)")
    payee_cooling_off_s: int = Field(default=24 * 3600, ge=0, le=30 * 24 * 3600, description=
        "A new payee receives at most payee_cooling_amount_max for this long")
    payee_cooling_amount_max: int = Field(default=50_00, ge=0, description="Minor units a "
                                          "cooling payee may receive in all")
    limit_raise_delay_s: int = Field(default=24 * 3600, ge=0, le=30 * 24 * 3600, description=
        "A raised transfer limit takes effect this long after the raise")
    limit_per_transfer_max: int = Field(default=10_000_00, ge=0, description="The bank's "
                                        "maximum for one transfer to another party, minor units")
    limit_per_day_max: int = Field(default=25_000_00, ge=0, description="The bank's maximum "
                                   "sent to other parties in 24 hours, minor units")
    limit_per_payee_max: int = Field(default=10_000_00, ge=0, description="The bank's maximum "
                                     "sent to one payee in 24 hours, minor units")
    standing_order_interval_s: float = Field(default=60.0, gt=0, le=3600, description="How "
                                             "often due standing orders and scheduled "
                                             "transfers run")
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65_535)
    smtp_from: str = "PayWarden <no-reply@localhost>"
    smtp_starttls: bool = Field(default=True, description="Off only for a local relay")
    # Interest on savings, e-money safeguarding, staff alerts (issue 11; decision 0027)
    interest_rates_bps: dict[str, int] = Field(
        default={"savings": 100}, description="Annual interest per product (current, "
        "savings) in basis points, ACT/365: 150 is 1.50 % a year; a product absent earns none")
    interest_interval_s: float = Field(default=3600.0, gt=0, le=24 * 3600, description=
        "How often a serving process accrues the days that ended (and posts months)")
    interest_day_grace_s: int = Field(default=300, ge=0, le=6 * 3600, description="How long "
                                      "after 00:00 UTC a day's balances are taken as final")
    interest_days_per_run_max: int = Field(default=400, ge=1, le=10_000, description=
        "The most days one run accrues per account (a longer catch-up goes on next run)")
    safeguarding_interval_s: float = Field(default=24 * 3600.0, gt=0, le=7 * 24 * 3600,
                                           description="How often the safeguarding "
                                           "reconciliation runs in a serving process")
    alerts_email_to: str | None = Field(default=None, max_length=254, description="Staff "
                                        "alerts are also e-mailed here when smtp_host is set")
    # The credit registry of dishonest parties (issue 12; decision 0031)
    registry_issuer: str | None = Field(default=None, max_length=200, description="The "
                                        "issuer our registry feed names; default: public_url")
    registry_region: str | None = Field(default=None, pattern=r"^[A-Z]{2}$", description=
        "Where a phone number without + is read; default: bank_country")
    registry_appeal_deadline_s: int = Field(default=30 * 24 * 3600, ge=24 * 3600,
                                            le=180 * 24 * 3600, description="An appeal "
                                            "against a registry entry is decided within this")
    registry_feed_entries_max: int = Field(default=100_000, ge=1, le=10_000_000, description=
        "The most entries one registry feed carries, out or in")

    # Keys and encryption at rest (issue 4)
    master_key: SecretStr | None = Field(
        default=None, description="Base64 of the 32-byte master key; default: master_key_file")
    master_key_file: Path | None = Field(
        default=None, description="The master key file; default: data_dir/keys/master.key")
    key_cryptoperiod_data_days: int = Field(default=365, ge=1, le=3650,
                                            description="Then the data KEK rotates")
    key_cryptoperiod_signing_days: int = Field(default=180, ge=1, le=3650)
    key_rotation_alert_days: int = Field(
        default=14, ge=0, le=365, description="Staff are alerted this long before a rotation")
    key_publish_retired_days: int = Field(
        default=30, ge=0, le=3650, description="A retired signing key stays in the JWKS")
    key_cache_s: int = Field(default=60, ge=1, le=3600, description="Another process's "
                             "rotation takes effect here within this")

    # Webhooks (issue 5)
    webhook_retry_horizon_s: int = Field(default=3 * 24 * 3600, ge=60, le=30 * 24 * 3600,
                                         description="Retry a webhook this long, then give up")
    webhook_backoff_base_s: float = Field(default=30.0, gt=0, le=3600,
                                          description="The first retry's delay; doubles each time")
    webhook_backoff_max_s: float = Field(default=6 * 3600.0, gt=0, le=24 * 3600,
                                         description="The longest delay between two attempts")
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=60,
                                     description="One delivery attempt's connect+read timeout")
    webhook_dispatch_interval_s: float = Field(default=1.0, gt=0, le=60,
                                               description="How often due webhooks are sent")
    webhook_batch_max: int = Field(default=50, ge=1, le=1_000)
    webhook_allow_http: bool = Field(default=False, description="Plain-http endpoint URLs "
                                     "(local tests only); otherwise https is required")
    webhook_allow_private_addresses: bool = Field(
        default=False, description="Endpoints on loopback, private or link-local addresses "
        "(local tests only); otherwise refused, so a webhook cannot probe the platform's network")

    # Risk screening (issue 12, decision 0030)
    risk_deadline_ms: int = Field(default=1_000, ge=1, le=5_000, description="A screening "
                                  "later than this gives way to its kind's written fallback "
                                  "(fail open or closed); also the feature reads' timeout")
    risk_rules_cache_s: float = Field(default=5.0, ge=0, le=300, description="How long a "
                                      "process keeps the current rule set before re-reading")
    risk_new_origin_s: int = Field(default=24 * 3600, ge=60, le=90 * 24 * 3600,
                                   description="A device or address first seen this recently "
                                   "is new (when the customer had others before)")
    risk_amount_floor_minor: int = Field(default=10_00, ge=1, description="The amount history "
                                         "median is never taken below this")
    risk_case_sla_s: int = Field(default=4 * 3600, ge=60, le=30 * 24 * 3600,
                                 description="How long an analyst has to answer a review "
                                 "case before the queue shows it overdue")
    insider_working_hours: str = Field(default="07-19 mon-fri", description="Working hours "
                                       "(UTC): a staff write or reveal outside them alerts "
                                       "supervisors, e.g. 07-19 or 08-18 mon-sat")
    # Supervision (issue 13; decision 0047)
    large_value_thresholds: str = Field(
        default="EUR:1000000,USD:1000000,GBP:1000000,CHF:1000000", description="Per-currency "
        "amount (minor units) at or over which a customer money movement is in the "
        "supervisor's large-value report, e.g. EUR:1000000,USD:1000000 (10,000.00 each)")
    approval_ttl_s: int = Field(default=24 * 3600, ge=60, le=30 * 24 * 3600,
                                description="How long a four-eyes request waits for a "
                                "second person before it expires")
    dispute_approval_min: int = Field(default=0, ge=0, le=2**63 - 1, description=
        "A dispute decision moving at least this many minor units (what the dispute "
        "holds) is a four-eyes command; 0: every decision (decision 0042)")
    risk_model_path: Path | None = Field(default=None, description="The signed model file "
                                         "(model.json beside model.json.jws); none: no score")
    risk_model_public_key_path: Path | None = Field(
        default=None, description="The Ed25519 public key (PEM) the model file is verified "
        "with; required with risk_model_path")
    risk_email_cache_s: int = Field(default=300, ge=0, le=86_400, description="How long a "
                                    "customer's e-mail is kept for the registry lookup")
    risk_merchant_cache_s: int = Field(default=60, ge=0, le=3_600, description="How long a "
                                       "merchant's 30-day dispute and refund rates are kept")
    risk_breaker_feed_batch_max: int = Field(default=500, ge=1, le=100_000, description="Outcomes "
                                             "counted in memory before a screening writes them")
    risk_breaker_feed_interval_s: float = Field(default=1.0, gt=0, le=60, description="How "
                                                "often the breaker feed writes its counts")

    # Merchant certification (issue 5)
    domain_verification_scheme: Literal["https", "http"] = Field(
        default="https", description="How the platform fetches a domain's verification token")
    domain_verification_port: int | None = Field(default=None, ge=1, le=65_535,
                                                 description="Default: the scheme's")
    domain_verification_timeout_s: float = Field(default=5.0, gt=0, le=30)
    domain_verification_body_bytes_max: int = Field(default=1_024, ge=64, le=65_536)
    domain_verification_allow_private: bool = Field(
        default=False, description="Allow loopback, private and IP-literal domains (tests only)")
    certificate_validity_days: int = Field(default=365, ge=1, le=825)
    # Clearing and settlement between banks and regions (issue 14; decisions 0053, 0055,
    # 0056): this node's BIC, as a participant bank and as a hub
    clearing_bic: str | None = Field(default=None, pattern=r"^[A-Z]{6}[A-Z2-9][A-NP-Z0-9]"
                                     r"([A-Z0-9]{3})?$", description="This node's BIC")
    clearing_hub: str | None = Field(default=None, description="The bank's hub, BIC=url; "
                                     "when set, transfers to other banks go through the "
                                     "clearing network instead of the simulated rail")
    clearing_channel: Literal["RTGS", "MPNS"] = Field(
        default="RTGS", description="How this bank's transfers settle: gross (RTGS) or in "
        "the hub's net window (MPNS)")
    clearing_deadline_s: int = Field(default=30, ge=1, le=24 * 3600, description="A transfer "
                                     "not accepted by the payee bank this long after it was "
                                     "sent is rejected AB05 by the deciding hub")
    payment_files_backlog_max: int = Field(
        default=2_000, ge=0, le=1_000_000, description="A new payment file is refused (503 "
        "payments_busy) while more than this many of the bank's transfers to other banks "
        "are on their way; 0: never")
    clearing_batch_max: int = Field(default=500, ge=1, le=10_000, description="The most "
                                    "transfers one pacs.008 carries")
    clearing_directory: dict[str, str] = Field(
        default={}, description="Other banks' BICs by IBAN country and bank code, as JSON: "
        '{"NLPAYB": "PAYBNL2A"}; other IBANs by the BIC directory schwifty ships')
    clearing_role: Literal["bank", "hub", "both"] = Field(
        default="bank", description="bank: a participant bank (the default); hub: a clearing "
        "and settlement hub; both: a hub whose own customers pay other banks through the "
        "simulated rail (with clearing_hub set it refuses to start)")
    clearing_peers: str = Field(default="", description="The peer hubs this hub knows: "
                                "BIC=URL,BIC=URL")
    clearing_replay_window_s: int = Field(default=300, ge=30, le=3600, description=
        "A new clearing message created further than this from now is refused stale")
    clearing_message_bytes_max: int = Field(default=1024 * 1024, ge=16 * 1024,
                                            le=8 * 1024 * 1024)
    clearing_send_timeout_s: float = Field(default=5.0, gt=0, le=60)
    clearing_chore_interval_s: float = Field(default=1.0, gt=0, le=60, description=
        "How often a hub voids what passed its deadline, asks peer hubs again, notifies")
    clearing_window_cycle_s: float = Field(default=0.0, ge=0, le=24 * 3600, description=
        "A hub's deferred net settlement cycle: every this many seconds it closes each "
        "open window that holds positions and settles every closed one; 0: by hand "
        "(paywarden clearing window close / settle)")

    @field_validator("interest_rates_bps")
    @classmethod
    def _rates_of_products(cls, rates: dict[str, int]) -> dict[str, int]:
        for product, bps in rates.items():
            if product not in ("current", "savings"):
                raise ValueError(f"interest is paid on current and savings accounts, "
                                 f"not {product!r}")
            if not 0 <= bps <= 10_000:
                raise ValueError(f"{product}: {bps} basis points is not 0 to 10000")
        return rates

    @field_validator("clearing_hub")
    @classmethod
    def _bic_and_url(cls, text: str | None) -> str | None:
        if text is not None:
            from .services.clearing.bank.directory import parse_hub

            parse_hub(text)  # a ValueError says how to write it
        return text

    @field_validator("insider_working_hours")
    @classmethod
    def _working_hours(cls, text: str) -> str:
        from .domain.insider import parse_hours

        parse_hours(text)  # a ValueError says how to write them
        return text

    @field_validator("large_value_thresholds")
    @classmethod
    def _thresholds(cls, text: str) -> str:
        from .services.supervision.large_value import parse_thresholds

        parse_thresholds(text)  # a ValueError says how to write them
        return text

    @field_validator("release_key")
    @classmethod
    def _a_release_key(cls, text: str | None) -> str | None:
        from .services.integrity.manifest import parse_public_key

        if text is not None:
            parse_public_key(text)  # a ValueError says how it is written
        return text

    @field_validator("database_url", "read_database_url")
    @classmethod
    def _a_database_we_open(cls, url: str | None) -> str | None:
        """Refused at start-up, not as a traceback from the first query."""
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        if url is None:
            return None
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise ValueError(f"not a database URL; use {DATABASES}") from None
        name, driver = parsed.get_backend_name(), parsed.get_driver_name()
        if name not in ("sqlite", "postgresql"):
            raise ValueError(f"PayWarden does not run on {name!r}; use {DATABASES}")
        if name == "postgresql" and driver != "psycopg":
            raise ValueError(f"PostgreSQL is opened with the psycopg driver: "
                             f"postgresql+psycopg://…, not {parsed.drivername!r}")
        return url

    @field_validator("read_database_url")
    @classmethod
    def _replicas_on_postgresql(cls, url: str | None) -> str | None:
        """After ``_a_database_we_open``: a replica is PostgreSQL's."""
        if url is not None and not url.startswith("postgresql"):
            raise ValueError("replicas are PostgreSQL's: postgresql+psycopg://…")
        return url

    @field_validator("public_url")
    @classmethod
    def _one_origin(cls, url: str, info: ValidationInfo) -> str:
        if url:
            return check_origin(url)
        return origin_for(info.data.get("host", "127.0.0.1"), info.data.get("port", DEFAULT_PORT))

    @field_validator("webauthn_rp_id")
    @classmethod
    def _rp_id_of_the_origin(cls, rp_id: str, info: ValidationInfo) -> str:
        origin = info.data.get("public_url")
        if origin is None:  # the origin itself was refused; that error is the one to show
            return rp_id
        return check_rp_id(rp_id, origin) if rp_id else rp_id_for(origin)

    @property
    def database(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'paywarden.db').resolve()}"

    @property
    def patroni(self) -> list[str]:
        return [url.strip() for url in self.patroni_urls.split(",") if url.strip()]

    @property
    def release_manifest_path(self) -> Path:
        return self.release_manifest or self.data_dir / "release-manifest.json"

    @property
    def master_key_path(self) -> Path:
        return self.master_key_file or self.data_dir / "keys" / "master.key"
