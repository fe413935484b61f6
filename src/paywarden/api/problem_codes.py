"""The one registry of problem codes: an enum per feature, each code with its HTTP status
and the short summary its problem+json carries as ``title`` (decision 0022).

Domain and service code name a code by its string (``DomainError("key_last_active", …)``)
and know nothing of HTTP; this module, in the api layer, is the one place a code meets a
status. A code is defined once, in one enum; ``tests/unit/test_problem_codes.py`` checks
that every code raised anywhere is here. The strings and statuses are a contract the SDK
maps (``paywarden.client.errors``): a code is never renamed.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

REFUSED_STATUS = 422  # a DomainError whose code is not registered (a test keeps this empty)


class ProblemCode(StrEnum):
    """A stable ``code``; the member is the code string itself."""

    status: int
    summary: str  # the problem's ``title`` (``str.title`` is taken)

    def __new__(cls, code: str, status: int, summary: str) -> Self:
        member = str.__new__(cls, code)
        member._value_ = code
        member.status = status
        member.summary = summary
        return member


class Edge(ProblemCode):
    """Any route: the defences, the framework's refusals, and failures."""

    NOT_FOUND = "not_found", 404, "Not found"
    FORBIDDEN = "forbidden", 403, "Forbidden"
    VALIDATION_FAILED = "validation_failed", 422, "The request is invalid"
    METHOD_NOT_ALLOWED = "method_not_allowed", 405, "Method not allowed"
    HTTP_ERROR = "http_error", 400, "The request was refused"  # status: the framework's
    DUPLICATE_JSON_KEY = "duplicate_json_key", 400, "A JSON key is repeated"
    RATE_LIMITED = "rate_limited", 429, "Too many requests"
    BODY_TOO_LARGE = "body_too_large", 413, "The body is too large"
    HEADERS_TOO_LARGE = "headers_too_large", 431, "The headers are too large"
    LENGTH_REQUIRED = "length_required", 411, "The body's length is required"
    OVERLOADED = "overloaded", 503, "The server is overloaded"
    NOT_READY = "not_ready", 503, "The server is not ready"
    PROCESS_FAILED = "process_failed", 503, "This process has failed"
    DATABASE_UNAVAILABLE = "database_unavailable", 503, "The database is unavailable"
    INTEGRITY_COMPROMISED = ("integrity_compromised", 503,
                             "The platform's files differ from its release; writes are refused")
    INTERNAL_ERROR = "internal_error", 500, "Internal error"


class Text(ProblemCode):
    """Text people see (api/text.py, domain/text.py)."""

    TEXT_CONTROL_CHARACTER = "text_control_character", 422, "A control character in text"
    TEXT_BIDI_CONTROL = "text_bidi_control", 422, "A bidi control in text"


class Callers(ProblemCode):
    """Who is calling: bearer tokens, cookies and sessions (api/auth.py, session routes)."""

    UNAUTHENTICATED = "unauthenticated", 401, "Authentication required"
    ORIGIN_MISMATCH = "origin_mismatch", 403, "The request's origin is not this site"
    NO_USER = "no_user", 403, "Only a signed-in user"
    NO_SESSION = "no_session", 400, "No session"
    USER_NOT_FOUND = "user_not_found", 404, "No such user"
    READ_ONLY_ROLE = ("read_only_role", 403,
                      "A supervisor reads; it changes nothing but its own sign-in")


class Signatures(ProblemCode):
    """Signed merchant requests (RFC 9421): a refused signature is 401."""

    SIGNATURE_MALFORMED = "signature_malformed", 401, "The signature is malformed"
    SIGNATURE_ALGORITHM_UNSUPPORTED = ("signature_algorithm_unsupported", 401,
                                       "The signature's algorithm is not supported")
    SIGNATURE_INVALID = "signature_invalid", 401, "The signature does not verify"
    SIGNATURE_EXPIRED = "signature_expired", 401, "The signature has expired"
    SIGNATURE_FROM_FUTURE = "signature_from_future", 401, "The signature is from the future"
    SIGNATURE_REPLAYED = "signature_replayed", 401, "The signature was already used"
    DIGEST_MISMATCH = "digest_mismatch", 401, "The body does not match its digest"
    KEY_UNKNOWN = "key_unknown", 401, "Unknown key"
    KEY_REVOKED = "key_revoked", 401, "The key is revoked"
    REPLAY_CHECK_UNAVAILABLE = ("replay_check_unavailable", 503,
                                "The replay check is unavailable")


class Idempotency(ProblemCode):
    """Idempotency-Key (api/idempotency.py, services/idempotency.py)."""

    IDEMPOTENCY_KEY_REQUIRED = ("idempotency_key_required", 400,
                                "An Idempotency-Key is required")
    IDEMPOTENCY_KEY_INVALID = "idempotency_key_invalid", 400, "The Idempotency-Key is invalid"
    IDEMPOTENCY_KEY_REUSED = ("idempotency_key_reused", 422,
                              "The Idempotency-Key was used for another request")
    IDEMPOTENCY_IN_PROGRESS = ("idempotency_in_progress", 409,
                               "A request with this Idempotency-Key is in progress")
    IDEMPOTENCY_CLAIM_LOST = ("idempotency_claim_lost", 409,
                              "The request outlived its Idempotency-Key")


class Ledger(ProblemCode):
    """The ledger: ledgers, accounts, transfers, history, and its engine."""

    LEDGER_EXISTS = "ledger_exists", 409, "The ledger exists"
    SERVICE_LIMIT_EXCEEDED = ("service_limit_exceeded", 403,
                              "A transfer is over this service's own limit")
    LEDGER_NOT_FOUND = "ledger_not_found", 422, "No such ledger"
    CURRENCY_UNKNOWN = "currency_unknown", 422, "Unknown currency"
    CURSOR_INVALID = "cursor_invalid", 400, "The cursor is invalid"
    HISTORY_TOO_DEEP = "history_too_deep", 422, "The history is too deep"
    HISTORY_BROKEN = "history_broken", 422, "The history is broken"
    ACCOUNT_NOT_FOUND = "account_not_found", 404, "No such account"
    ACCOUNT_EXISTS_WITH_DIFFERENT_FIELDS = ("account_exists_with_different_fields", 409,
                                            "The account exists with other fields")
    ACCOUNT_ID_INVALID = "account_id_invalid", 422, "The account id is invalid"
    ACCOUNT_FLAGS_INVALID = "account_flags_invalid", 422, "The account flags are invalid"
    ACCOUNT_FLAGS_ARE_MUTUALLY_EXCLUSIVE = ("account_flags_are_mutually_exclusive", 422,
                                            "The account flags exclude each other")
    ACCOUNT_CODE_INVALID = "account_code_invalid", 422, "The account code is invalid"
    ACCOUNT_USER_DATA_INVALID = ("account_user_data_invalid", 422,
                                 "The account user data is invalid")
    ACCOUNT_ALREADY_CLOSED = "account_already_closed", 409, "The account is already closed"
    ACCOUNT_NOT_CLOSED = "account_not_closed", 422, "The account is not closed"
    ACCOUNT_HAS_PENDING_TRANSFERS = ("account_has_pending_transfers", 409,
                                     "The account has pending transfers")
    TRANSFER_NOT_FOUND = "transfer_not_found", 404, "No such transfer"
    INSUFFICIENT_FUNDS = "insufficient_funds", 402, "Insufficient funds"
    LEDGER_REFUSED = "ledger_refused", 422, "The ledger refused the movements"
    BATCH_TOO_LARGE = "batch_too_large", 413, "The batch is too large"
    ENGINE_OVERLOADED = "engine_overloaded", 503, "The ledger is saturated"
    ENGINE_STOPPED = "engine_stopped", 503, "The ledger is not running"
    ENGINE_UNRESPONSIVE = "engine_unresponsive", 503, "The ledger did not answer"


class Money(ProblemCode):
    """Amounts and currencies (domain/money.py)."""

    MONEY_AMOUNT_INVALID = "money_amount_invalid", 422, "The amount is invalid"
    CURRENCY_INVALID = "currency_invalid", 422, "The currency is invalid"
    CURRENCY_MISMATCH = "currency_mismatch", 422, "Another currency"


class Escrow(ProblemCode):
    """The escrow machine (domain/escrow)."""

    ESCROW_TRANSITION_NOT_ALLOWED = ("escrow_transition_not_allowed", 409,
                                     "Not allowed in the payment's state")
    ESCROW_TIMER_NOT_DUE = "escrow_timer_not_due", 422, "The timer is not due"
    ESCROW_SESSION_EXPIRED = "escrow_session_expired", 422, "The checkout session expired"
    ESCROW_SHIP_DEADLINE_PASSED = ("escrow_ship_deadline_passed", 422,
                                   "The ship-by deadline passed")
    ESCROW_INSPECTION_PERIOD_OVER = ("escrow_inspection_period_over", 422,
                                     "The inspection period is over")
    ESCROW_AMOUNT_MISMATCH = "escrow_amount_mismatch", 422, "Another amount than the order's"
    REFUND_AMOUNT_INVALID = "refund_amount_invalid", 422, "The refund amount is invalid"
    REFUND_EXCEEDS_HELD = "refund_exceeds_held", 422, "The refund exceeds what is held"
    SPLIT_DOES_NOT_ADD_UP = "split_does_not_add_up", 422, "The split does not add up"
    SPLIT_PART_NOT_POSITIVE = "split_part_not_positive", 422, "A split part is zero"
    DISPUTE_ALREADY_ANSWERED = "dispute_already_answered", 422, "The dispute is answered"
    DISPUTE_ALREADY_DECIDED = "dispute_already_decided", 422, "The dispute is decided"
    DISPUTE_INPUT_INVALID = "dispute_input_invalid", 422, "The dispute input is invalid"
    SHIPMENT_INVALID = "shipment_invalid", 422, "The shipment is invalid"
    ESCROW_TERMS_INVALID = "escrow_terms_invalid", 422, "The escrow terms are invalid"
    FEE_SCHEDULE_INVALID = "fee_schedule_invalid", 422, "The fee schedule is invalid"
    ESCROW_INVALID = "escrow_invalid", 422, "The escrow is invalid"


class Payments(ProblemCode):
    """Checkout sessions, payments, refunds and their timers (services/payments)."""

    PAYMENT_SENDER_NOT_ALLOWED = ("payment_sender_not_allowed", 403,
                                  "This party may not send this")
    PAYMENT_CHANGED = "payment_changed", 409, "The payment changed meanwhile"
    PAYMENT_BUSY = "payment_busy", 422, "The payment kept changing"
    PAYMENT_FUNDING_MISSING = "payment_funding_missing", 422, "The payment has no funding"
    CHECKOUT_ORDER_REF_REUSED = ("checkout_order_ref_reused", 409,
                                 "The order reference is used with other fields")
    REFUND_ID_INVALID = "refund_id_invalid", 422, "The refund id is invalid"
    REFUND_ID_REUSED = "refund_id_reused", 409, "The refund id is used with another amount"
    AMOUNT_MISMATCH = "amount_mismatch", 422, "The items do not add up to the amount"
    CARD_TOKEN_REQUIRED = "card_token_required", 422, "A card payment names a card"
    LIMIT_INVALID = "limit_invalid", 422, "The limit is invalid"
    PAYMENT_DECLINED = "payment_declined", 422, "The payment was declined"
    REFUND_DECLINED = "refund_declined", 422, "The refund was declined"
    DISPUTE_DECISION_HELD = ("dispute_decision_held", 409,
                             "The decision waits for a risk analyst's release")
    DISPUTE_DECISION_DECLINED = "dispute_decision_declined", 422, "The decision was declined"


class Cards(ProblemCode):
    """Stored cards and their issuer (domain/cards.py, services/cards)."""

    CARD_NUMBER_INVALID = "card_number_invalid", 422, "The card number is invalid"
    CARD_BRAND_UNKNOWN = "card_brand_unknown", 422, "The card's brand is not supported"
    CARD_LENGTH_INVALID = "card_length_invalid", 422, "The card number's length is invalid"
    CARD_CHECKSUM_INVALID = "card_checksum_invalid", 422, "The card number's check digit"
    CARD_EXPIRY_INVALID = "card_expiry_invalid", 422, "The card's expiry is invalid"
    CARD_EXPIRED = "card_expired", 422, "The card has expired"
    CARD_HOLDER_INVALID = "card_holder_invalid", 422, "The card holder's name is invalid"
    CARD_DECLINED = "card_declined", 402, "The card was declined"


class Identity(ProblemCode):
    """Users, sign-up, sign-in, passwords and second factors (services/identity)."""

    SIGN_IN_FAILED = "sign_in_failed", 401, "Sign-in failed"
    TOO_MANY_ATTEMPTS = "too_many_attempts", 429, "Too many failed attempts"
    BUSY = "busy", 503, "Too many sign-ins at once"
    USERNAME_INVALID = "username_invalid", 422, "The username is invalid"
    USERNAME_TAKEN = "username_taken", 409, "The username is taken"
    USERNAME_CONFUSABLE = "username_confusable", 409, "The username looks like another"
    USERNAME_MIXED_SCRIPT = "username_mixed_script", 422, "The username mixes scripts"
    EMAIL_INVALID = "email_invalid", 422, "The email address is invalid"
    DISPLAY_NAME_INVALID = "display_name_invalid", 422, "The display name is invalid"
    ROLE_INVALID = "role_invalid", 422, "The roles are invalid"
    ROLE_UNKNOWN = "role_unknown", 422, "Unknown role"
    MERCHANT_INVALID = "merchant_invalid", 422, "The merchant is invalid for this user"
    TTL_INVALID = "ttl_invalid", 422, "The lifetime is invalid"
    SERVICE_NAME_INVALID = "service_name_invalid", 422, "The service's name is invalid"
    SERVICE_LIMIT_INVALID = "service_limit_invalid", 422, "The service's limit is invalid"
    PASSWORD_TOO_SHORT = "password_too_short", 422, "The password is too short"
    PASSWORD_TOO_LONG = "password_too_long", 422, "The password is too long"
    PASSWORD_COMMON = "password_common", 422, "The password is common"
    PASSWORD_REPETITIVE = "password_repetitive", 422, "The password is repetitive"
    PASSWORD_SEQUENCE = "password_sequence", 422, "The password is a sequence"
    PASSWORD_PERSONAL = "password_personal", 422, "The password holds the account's names"
    PASSWORD_DATE = "password_date", 422, "The password is a date"
    TOTP_EXISTS = "totp_exists", 409, "A TOTP factor exists"
    TOTP_CODE_INVALID = "totp_code_invalid", 422, "The code does not confirm the enrolment"
    PHRASE_INVALID = "phrase_invalid", 422, "The anti-phishing phrase is invalid"
    SECOND_FACTOR_MISSING = "second_factor_missing", 422, "A second factor is missing"
    SECOND_FACTOR_REQUIRED = "second_factor_required", 409, "A second factor is required"
    LAST_SECOND_FACTOR = "last_second_factor", 409, "The last second factor"
    REAUTHENTICATION_FAILED = "reauthentication_failed", 403, "Reauthentication failed"
    REAUTHENTICATION_REQUIRED = ("reauthentication_required", 403,
                                 "Reauthentication required")


class Passkeys(ProblemCode):
    """Passkeys and step-up confirmation of operations (decision 0005, 0022)."""

    PASSKEY_REFUSED = "passkey_refused", 401, "The passkey response was not accepted"
    PASSKEY_REQUIRED = "passkey_required", 409, "A passkey is required"
    PASSKEYS_TOO_MANY = "passkeys_too_many", 409, "Too many passkeys"
    NAME_INVALID = "name_invalid", 422, "The passkey name is invalid"
    OPERATION_INVALID = "operation_invalid", 422, "The operation is invalid"
    STEP_UP_REQUIRED = "step_up_required", 403, "Confirm with your passkey"
    STEP_UP_MISMATCH = ("step_up_mismatch", 403,
                        "The passkey confirmed another operation")


class Merchants(ProblemCode):
    """Merchants and their signing keys (services/merchants)."""

    MERCHANT_NAME_INVALID = "merchant_name_invalid", 422, "The merchant name is invalid"
    MERCHANT_STATUS_INVALID = "merchant_status_invalid", 422, "The status is invalid"
    MERCHANT_STATUS_UNCHANGED = ("merchant_status_unchanged", 409,
                                 "The merchant has this status already")
    PUBLIC_KEY_INVALID = "public_key_invalid", 422, "The public key is invalid"
    PUBLIC_KEY_REGISTERED = "public_key_registered", 409, "The public key is registered"
    KEY_LABEL_INVALID = "key_label_invalid", 422, "The key label is invalid"
    KEY_ALREADY_REVOKED = "key_already_revoked", 409, "The key is already revoked"
    KEY_LAST_ACTIVE = "key_last_active", 409, "The merchant's last active key"


class Certification(ProblemCode):
    """Merchant certification and who may sell (services/certification)."""

    APPLICATION_INVALID = "application_invalid", 422, "The application is invalid"
    APPLICATION_NOT_PENDING = "application_not_pending", 409, "The application is decided"
    ALREADY_CERTIFIED = "already_certified", 409, "The merchant is already certified"
    DOMAIN_INVALID = "domain_invalid", 422, "The domain is invalid"
    DOMAINS_NOT_VERIFIED = "domains_not_verified", 409, "The domains are not verified"
    DOMAIN_TOKEN_MISMATCH = "domain_token_mismatch", 422, "The domain's token does not match"
    DOMAIN_UNREACHABLE = "domain_unreachable", 422, "The domain is unreachable"
    DOMAIN_ADDRESS_REFUSED = "domain_address_refused", 422, "The domain's address is refused"
    DOMAIN_REDIRECT_REFUSED = "domain_redirect_refused", 422, "The domain redirected"
    DOMAIN_BODY_TOO_LARGE = "domain_body_too_large", 422, "The domain answered too much"
    MERCHANT_NOT_ACTIVE = "merchant_not_active", 409, "The merchant is not active"
    MERCHANT_KEY_MISSING = "merchant_key_missing", 409, "The merchant has no active key"
    REASON_INVALID = "reason_invalid", 422, "The reason is invalid"
    CERTIFICATE_STATUS_UNCHANGED = ("certificate_status_unchanged", 409,
                                    "The certificate has this status already")
    CERTIFICATE_NOT_LIVE = "certificate_not_live", 409, "The certificate is not live"
    MERCHANT_SUSPENDED = "merchant_suspended", 403, "The merchant is suspended"
    MERCHANT_REVOKED = "merchant_revoked", 403, "The merchant's certification is revoked"
    MERCHANT_NOT_CERTIFIED = "merchant_not_certified", 403, "The merchant is not certified"
    RETURN_URL_OFF_DOMAIN = ("return_url_off_domain", 422,
                             "The return URL is off the merchant's domains")


class Webhooks(ProblemCode):
    """Webhook endpoints and events (services/webhooks)."""

    URL_INVALID = "url_invalid", 422, "The URL is invalid"
    URL_SCHEME_REFUSED = "url_scheme_refused", 422, "The URL's scheme is refused"
    URL_HOST_NOT_CANONICAL = "url_host_not_canonical", 422, "The URL's host is not canonical"
    URL_ADDRESS_REFUSED = "url_address_refused", 422, "The URL's address is refused"
    URL_UNRESOLVED = "url_unresolved", 422, "The URL's host does not resolve"
    PAYLOAD_INVALID = "payload_invalid", 422, "The payload is invalid"
    EVENT_TYPE_INVALID = "event_type_invalid", 422, "The event type is invalid"
    NO_ENDPOINT = "no_endpoint", 422, "No webhook endpoint"


class Keys(ProblemCode):
    """The platform's keyring (services/keys)."""

    KEY_PURPOSE_UNKNOWN = "key_purpose_unknown", 422, "Unknown key purpose"
    KEY_NOT_USABLE = "key_not_usable", 422, "The key cannot be used so"
    KEY_IN_USE = "key_in_use", 422, "The key is in use"
    KEY_ROTATION_REFUSED = "key_rotation_refused", 422, "The rotation is refused"


class Banking(ProblemCode):
    """Bank accounts and the bank's movements (services/banking)."""

    IBAN_INVALID = "iban_invalid", 422, "The IBAN is invalid"
    ACCOUNT_NAME_INVALID = "account_name_invalid", 422, "The account's name is invalid"
    ACCOUNT_OPEN_FAILED = "account_open_failed", 503, "The account could not be opened"
    WALLET_EXISTS = "wallet_exists", 409, "A wallet in this currency exists"
    ACCOUNT_STATE_INVALID = "account_state_invalid", 409, "The account's state forbids this"
    ACCOUNT_NOT_EMPTY = "account_not_empty", 409, "The account is not empty"
    ACCOUNT_FROZEN = "account_frozen", 409, "The account is frozen"
    ACCOUNT_CLOSED = "account_closed", 409, "The account is closed"
    MOVEMENT_ID_INVALID = "movement_id_invalid", 422, "The transfer id is invalid"
    MOVEMENT_INVALID = "movement_invalid", 422, "The transfer is invalid"
    REFERENCE_INVALID = "reference_invalid", 422, "The reference is invalid"
    TRANSFER_EXISTS = ("transfer_exists_with_different_fields", 409,
                       "The transfer id is used with other fields")
    TRANSFER_IN_PROGRESS = "transfer_in_progress", 409, "The transfer is in progress"
    MOVEMENT_CONFLICT = ("movement_conflict", 409,
                         "A concurrent request wrote this transfer first: ask again")
    MOVEMENT_DECLINED = "movement_declined", 422, "The transfer was declined"
    TOP_UP_TARGET_INVALID = "top_up_target_invalid", 422, "Only a wallet is topped up"


class Cheques(ProblemCode):
    """Electronic cheques (services/banking/cheques.py, decision 0026)."""

    CHEQUE_INVALID = "cheque_invalid", 422, "The cheque is invalid"
    CHEQUE_ACCOUNT_NOT_CHEQUING = ("cheque_account_not_chequing", 422,
                                   "Cheques are drawn on a current account")
    CHEQUE_CURRENCY_MISMATCH = ("cheque_currency_mismatch", 422,
                                "The cheque's currency is not the account's")
    CHEQUE_SERIAL_TAKEN = "cheque_serial_taken", 409, "The cheque's serial is used"
    CHEQUE_OUTSTANDING_MAX = ("cheque_outstanding_max", 409,
                              "Too many cheques are outstanding on the account")
    CHEQUE_NOT_YET_DUE = "cheque_not_yet_due", 422, "The cheque is dated later"
    CHEQUE_NOT_STOPPABLE = "cheque_not_stoppable", 409, "The cheque can no longer be stopped"
    CHEQUE_STATE_INVALID = "cheque_state_invalid", 409, "The cheque's state forbids this"
    CHEQUE_CHANGED = "cheque_changed", 409, "The cheque changed meanwhile; try again"
    CHEQUE_BOUNCED = "cheque_bounced", 422, "The cheque bounced"
    CHEQUE_BANK_UNREACHABLE = ("cheque_bank_unreachable", 503,
                               "The drawer's bank cannot be reached now; nothing was paid")


class BankJobs(ProblemCode):
    """Interest on savings, the safeguarding reconciliation and staff alerts (decision 0027)."""

    INTEREST_DAY_OPEN = "interest_day_open", 409, "The day has not ended yet"
    INTEREST_RATE_INVALID = "interest_rate_invalid", 422, "The interest rate is invalid"
    INTEREST_ACCRUAL_INVALID = "interest_accrual_invalid", 422, "The accrual is invalid"
    ALERT_INVALID = "alert_invalid", 422, "The alert is invalid"
    ALERT_ALREADY_ACKNOWLEDGED = ("alert_already_acknowledged", 409,
                                  "The alert was acknowledged already")


class Records(ProblemCode):
    """Receipts and the audit log."""

    RECEIPT_CLAIMS_INVALID = "receipt_claims_invalid", 422, "The receipt claims are invalid"
    RECEIPT_INVALID = "receipt_invalid", 422, "The receipt is invalid"
    AUDIT_RANGE_INVALID = "audit_range_invalid", 400, "The audit range is invalid"


class Statements(ProblemCode):
    """An account's history and statements (services/banking/history, statements)."""

    HISTORY_FILTER_INVALID = "history_filter_invalid", 400, "The history filter is invalid"
    STATEMENT_PERIOD_INVALID = "statement_period_invalid", 400, "The statement period is invalid"
    STATEMENT_FORMAT_INVALID = "statement_format_invalid", 400, "The statement format is unknown"


class Transfers(ProblemCode):
    """Transfers to other parties: payees, limits, standing orders (services/banking)."""

    PAYEE_NAME_INVALID = "payee_name_invalid", 422, "The payee's name is invalid"
    PAYEE_EXISTS = "payee_exists", 409, "A payee with this IBAN exists"
    PAYEES_TOO_MANY = "payees_too_many", 409, "Too many payees"
    PAYEE_ACCOUNT_UNKNOWN = "payee_account_unknown", 422, "No account has the payee's IBAN"
    PAYEE_COOLING_OFF = "payee_cooling_off", 409, "The payee is still cooling off"
    PAYEE_DECLINED = "payee_declined", 422, "The payee was not added"
    LIMIT_PER_TRANSFER_EXCEEDED = ("limit_per_transfer_exceeded", 422,
                                   "Over your limit per transfer")
    LIMIT_PER_DAY_EXCEEDED = "limit_per_day_exceeded", 422, "Over your limit per day"
    LIMIT_PER_PAYEE_EXCEEDED = "limit_per_payee_exceeded", 422, "Over your limit per payee"
    LIMIT_ABOVE_BANK_MAX = "limit_above_bank_max", 422, "Above the bank's maximum"
    SCHEDULE_INVALID = "schedule_invalid", 422, "The schedule is invalid"
    STANDING_ORDERS_TOO_MANY = "standing_orders_too_many", 409, "Too many standing orders"


class RiskControls(ProblemCode):
    """Sanctions screening and circuit breakers (services/risk, decision 0032)."""

    SANCTIONS_LIST_INVALID = "sanctions_list_invalid", 422, "The sanctions list is invalid"
    SANCTIONS_NAME_INVALID = "sanctions_name_invalid", 422, "The screened name is invalid"
    BREAKER_SCOPE_INVALID = "breaker_scope_invalid", 422, "The breaker's scope is invalid"
    BREAKER_NOT_FOUND = "breaker_not_found", 404, "No such breaker"
    BREAKER_NOT_OPEN = "breaker_not_open", 409, "The breaker is closed"
    BREAKER_RESET_PENDING = ("breaker_reset_pending", 409,
                             "A reset of this breaker awaits approval")
    BREAKER_RESET_REASON_INVALID = ("breaker_reset_reason_invalid", 422,
                                    "The reset's reason is invalid")


class Registry(ProblemCode):
    """The credit registry of dishonest parties (services/registry, decision 0031)."""

    IDENTIFIER_INVALID = ("registry_identifier_invalid", 422,
                          "An identifier is not valid for its kind")
    REASON_INVALID = "registry_reason_invalid", 422, "The reason category is unknown"
    EVIDENCE_INVALID = "registry_evidence_invalid", 422, "The evidence reference is invalid"
    EXPIRY_INVALID = "registry_expiry_invalid", 422, "The expiry is not in the future"
    CHANGE_EMPTY = "registry_change_empty", 422, "The change changes nothing"
    SOURCE_INVALID = "registry_source_invalid", 422, "The source's issuer or JWKS is invalid"
    REQUEST_INVALID = "registry_request_invalid", 422, "The request is invalid"
    ENTRY_NOT_LOCAL = ("registry_entry_not_local", 409,
                       "The entry is not a live entry of this registry")
    APPEAL_OPEN = "registry_appeal_open", 409, "The entry has an open appeal"
    KEY_INVALID = "registry_key_invalid", 422, "The shared hashing key is invalid"
    KEY_EXISTS = ("registry_key_exists", 409,
                  "Digests are stored under this registry's hashing key already")
    FEED_TOO_LARGE = "registry_feed_too_large", 422, "The feed has too many entries"
    FEED_INVALID = "registry_feed_invalid", 422, "The feed is malformed"
    FEED_SIGNATURE_INVALID = ("registry_feed_signature_invalid", 422,
                              "The feed's signature does not verify")
    FEED_UNKNOWN_ISSUER = ("registry_feed_unknown_issuer", 422,
                           "The feed's issuer is not a trusted source")
    FEED_KEY_MISMATCH = ("registry_feed_key_mismatch", 422,
                         "The feed is hashed under another key")
    FEED_REPLAYED = "registry_feed_replayed", 409, "The feed was imported already"
    FEED_GAP = "registry_feed_gap", 409, "The feed skips a sequence number"


class Risk(ProblemCode):
    """Risk screening: rules, rule requests, decisions (services/risk, decision 0030)."""

    RISK_RULE_INVALID = "risk_rule_invalid", 422, "The rule is invalid"
    RISK_RULE_NOT_SHADOW = ("risk_rule_not_shadow", 409,
                            "A new or changed rule starts in shadow")
    RISK_REQUEST_STALE = "risk_request_stale", 409, "The rules changed since the request"
    RISK_RERUN_FALLBACK = ("risk_rerun_fallback", 409,
                           "The decision was a fallback: nothing to re-run")
    RISK_FEATURE_INVALID = "risk_feature_invalid", 422, "A feature is invalid"
    RISK_THRESHOLDS_INVALID = "risk_thresholds_invalid", 422, "The thresholds are invalid"
    RISK_BACKTEST_REQUIRED = ("risk_backtest_required", 409,
                              "Back-test the rule set version before approving")
    RISK_BACKTEST_INVALID = "risk_backtest_invalid", 422, "The back-test's window is invalid"


class RiskCases(ProblemCode):
    """The analysts' queue and their labels (services/risk/cases.py, decision 0034)."""

    RISK_CASE_NOT_FOUND = "risk_case_not_found", 404, "No such review case"
    RISK_CASE_OWN = ("risk_case_own", 403,
                     "A case about your own move is answered by another person")
    RISK_CASE_NO_RESOLVER = ("risk_case_no_resolver", 409,
                             "Nothing can release or decline this kind of hold yet")
    RISK_CASE_REASON_INVALID = "risk_case_reason_invalid", 422, "The reason is invalid"
    RISK_CASE_OUTCOME_INVALID = ("risk_case_outcome_invalid", 422,
                                 "An outcome is release or decline")
    RISK_LABEL_INVALID = "risk_label_invalid", 422, "A label is fraud or false_positive"


class Approvals(ProblemCode):
    """Four-eyes approvals (services/approvals, decision 0041)."""

    FOUR_EYES_REQUIRED = ("four_eyes_required", 403,
                          "Another member of staff must approve or reject this")
    APPROVER_ROLE_REFUSED = ("approver_role_refused", 403,
                             "Your roles do not approve this kind of command")
    SUBMITTER_ROLE_REFUSED = ("submitter_role_refused", 403,
                              "Your roles do not submit this kind of command")
    APPROVER_PASSKEY_REQUIRED = ("approver_passkey_required", 403,
                                 "A decision is signed with a person's passkey")
    APPROVAL_NOT_YOURS = ("approval_not_yours", 403,
                          "Only the member who submitted a command withdraws it")
    APPROVAL_NOT_FOUND = "approval_not_found", 404, "No such approval"
    APPROVAL_NOT_PENDING = "approval_not_pending", 409, "The approval was decided already"
    APPROVAL_EXPIRED = "approval_expired", 409, "The approval request expired"
    APPROVAL_TAMPERED = ("approval_tampered", 409,
                         "The stored command is not the one submitted or approved")
    APPROVAL_KIND_UNKNOWN = "approval_kind_unknown", 422, "Unknown kind of command"
    APPROVAL_COMMAND_INVALID = "approval_command_invalid", 422, "The command is invalid"
    APPROVAL_REASON_INVALID = "approval_reason_invalid", 422, "The reason is invalid"
    ROLE_CONFLICT = ("role_conflict", 409,
                     "The roles conflict: no one may hold them together")


class Lookup(ProblemCode):
    """Staff customer lookups and reveals (services/lookup.py, decision 0046)."""

    LOOKUP_QUERY_INVALID = "lookup_query_invalid", 422, "Look up by username or by IBAN"
    REVEAL_FIELD_INVALID = "reveal_field_invalid", 422, "That field cannot be revealed"
    REVEAL_REASON_REQUIRED = "reveal_reason_required", 422, "A reveal needs a reason"


class Staff(ProblemCode):
    """The staff lifecycle and service credentials (services/staff, decision 0043)."""

    STAFF_NOT_FOUND = "staff_not_found", 404, "No such staff user"
    STAFF_NOT_ACTIVE = "staff_not_active", 409, "The staff user is not active"
    STAFF_NO_APPROVER = ("staff_no_approver", 409,
                         "No security admin can approve this; only the first one is made alone")
    ROLE_UNCHANGED = "role_unchanged", 409, "The role change changes nothing"
    ROLE_GRANT_OWN = ("role_grant_own", 403,
                      "A change of your own roles is approved by someone else")
    CREDENTIAL_NOT_FOUND = ("credential_not_found", 404,
                            "No service credential was granted by this approval")
    CREDENTIAL_NOT_YOURS = ("credential_not_yours", 403,
                            "Only the security admin who asked fetches the credential")
    CREDENTIAL_REDEEMED = "credential_redeemed", 410, "The credential was fetched already"
    CREDENTIAL_VOID = "credential_void", 410, "The credential was not fetched in time"


class FourEyesCommands(ProblemCode):
    """The four-eyes commands of decision 0044: reinstatement, keys, limit overrides."""

    CERTIFICATE_NOT_SUSPENDED = ("certificate_not_suspended", 409,
                                 "The merchant holds no suspended certificate")
    MACHINE_PRINCIPAL_REQUIRED = ("machine_principal_required", 403,
                                  "Only a machine principal (service token) may do this")


class Supervision(ProblemCode):
    """The supervisor's reports (services/supervision, decision 0047)."""

    SUPERVISORS_ONLY = "supervisors_only", 403, "Only a supervisor reads these reports"
    REPORT_KIND_UNKNOWN = "report_kind_unknown", 404, "No report of that kind"
    REPORT_PERIOD_INVALID = ("report_period_invalid", 400,
                             "The period is not from <= to <= today, at most 366 days")
    REPORT_FORMAT_INVALID = "report_format_invalid", 400, "The format is csv, pdf or json"
    REPORT_TOO_LARGE = ("report_too_large", 422,
                        "The report would be too long: ask for a shorter period")


class Dashboard(ProblemCode):
    """The back office dashboard's figures (services/dashboard.py, decision 0050)."""

    DASHBOARD_WINDOW_INVALID = ("dashboard_window_invalid", 400,
                                "The window is not between 1 and 168 hours")


class MerchantUsers(ProblemCode):
    """A merchant's people, invitations and settings (services/merchants/users.py, 0051)."""

    MERCHANT_ROLE_INVALID = ("merchant_role_invalid", 422,
                             "A merchant user's role is owner, developer or support")
    INVITATION_UNUSABLE = ("invitation_unusable", 410,
                           "The invitation is unknown, used or expired")
    MERCHANT_NOT_FOUND = "merchant_not_found", 404, "No such merchant"
    MERCHANT_USER_NOT_FOUND = "merchant_user_not_found", 404, "No such user of this merchant"
    MERCHANT_USER_NOT_ACTIVE = ("merchant_user_not_active", 409,
                                "The merchant user is not active")
    MERCHANT_USER_SELF = "merchant_user_self", 409, "An owner does not disable themselves"
    MERCHANT_HAS_OWNER = ("merchant_has_owner", 409,
                          "The merchant has an owner: its owners invite its people")
    REFUND_APPROVAL_MIN_INVALID = ("refund_approval_min_invalid", 422,
                                   "refund_approval_min is null or a non-negative integer")


class ClearingMessages(ProblemCode):
    """The fields of ISO 20022 messages (domain/clearing/messages.py, decision 0053)."""

    BIC_INVALID = "bic_invalid", 422, "A participant code is a BIC of 8 or 11 characters"
    MESSAGE_ID_INVALID = ("message_id_invalid", 422,
                          "A message or transaction id is 1 to 35 printable ASCII characters")
    PARTY_NAME_INVALID = ("party_name_invalid", 422,
                          "A party's name in a message is 1 to 140 characters")
    MESSAGE_HEADER_INVALID = ("message_header_invalid", 422,
                              "A message between nodes names its sender and its receiver")
    CHEQUE_PRESENTMENT_INVALID = ("cheque_presentment_invalid", 422,
                                  "A cheque's presentment is one payment")
    MESSAGE_UNSAFE_XML = ("message_unsafe_xml", 400,
                          "The document has a DTD or an entity, or is too large")
    MESSAGE_SCHEMA_INVALID = ("message_schema_invalid", 422,
                              "The document is not a valid ISO 20022 message of the network")
    PARTICIPANT_CERTIFICATE_INVALID = ("participant_certificate_invalid", 422,
                                       "The participant's certificate is not trusted")


class NetSettlement(ProblemCode):
    """Deferred net settlement on a hub: positions and windows (services/clearing/windows.py,
    decision 0057). Over the cap is not a problem but an answer: pacs.002 RJCT AM04."""

    NET_AMOUNT_INVALID = ("net_amount_invalid", 422,
                          "A net amount is a positive integer of minor units")
    NET_PAYER_IS_PAYEE = "net_payer_is_payee", 422, "A participant cannot pay itself"
    NET_EXPOSURE_UNCOVERED = ("net_exposure_uncovered", 409,
                              "The withdrawal would leave the net exposure uncovered")
    POSITION_EXISTS = "position_exists", 409, "The net position exists"
    POSITION_EXISTS_WITH_DIFFERENT_FIELDS = ("position_exists_with_different_fields", 409,
                                             "The UETR names another net position")
    POSITION_NOT_FOUND = "position_not_found", 404, "No such net position"
    POSITION_RELEASED = "position_released", 409, "The net position was released"
    POSITION_COMMITTED = "position_committed", 409, "The net position was committed"
    WINDOW_NOT_FOUND = "window_not_found", 404, "No such net window"
    WINDOW_OPEN = "window_open", 409, "The net window is open: close it first"
    WINDOW_SETTLED = "window_settled", 409, "The net window is settled already"


class ClearingBank(ProblemCode):
    """The participant bank's side of the clearing network (decision 0056)."""

    MESSAGE_SENDER_NOT_HUB = ("message_sender_not_hub", 403,
                              "A bank takes transfers and statuses from its own hub only")
    MESSAGE_TYPE_UNEXPECTED = ("message_type_unexpected", 422,
                               "This message type is not taken here")
    PAYMENT_FILE_INVALID = ("payment_file_invalid", 422,
                            "The payment file was refused whole: nothing moved")
    PAYMENTS_BUSY = ("payments_busy", 503,
                     "The bank's payments to other banks are backed up: send it again soon")
    CLEARING_IN_EXISTS = ("clearing_in_exists", 409,
                          "This transfer came before: it is answered as it was")
    RETURN_REASON_INVALID = ("return_reason_invalid", 422,
                             "A return names an ISO return reason the network takes")
    RETURN_NOT_SETTLED = ("return_not_settled", 409,
                          "Only a settled transfer from another bank is returned")
    RETURN_AMOUNT_INVALID = ("return_amount_invalid", 422,
                             "A return is more than zero and at most the transfer")
    RETURN_EXISTS = "return_exists", 409, "This transfer is being returned already"
    RETURN_ID_INVALID = "return_id_invalid", 422, "A return id is the hex of a UUID v4"
    RECALL_REASON_INVALID = ("recall_reason_invalid", 422,
                             "A recall names an ISO cancellation reason the network takes")
    RECALL_CASE_INVALID = ("recall_case_invalid", 422,
                           "A recall's case id is 32 hex digits, of this case only")
    RECALL_NOT_SETTLED = ("recall_not_settled", 409,
                          "Only a settled transfer to another bank is recalled")
    RECALL_AMOUNT_INVALID = ("recall_amount_invalid", 422,
                             "A recall is more than zero and at most the transfer")
    RECALL_EXISTS = "recall_exists", 409, "This transfer is being recalled already"
    RECALL_REFUSAL_INVALID = ("recall_refusal_invalid", 422,
                              "A refused recall names an ISO rejection reason")
    RECALL_ANSWERED = "recall_answered", 409, "This recall was answered already"


class ClearingHub(ProblemCode):
    """The clearing network's transport, peers and hub (services/clearing, decision 0055)."""

    MESSAGE_INVALID = "message_invalid", 422, "The clearing message is invalid"
    MESSAGE_TOO_LARGE = "message_too_large", 413, "The clearing message is too large"
    MESSAGE_SENDER_UNKNOWN = "message_sender_unknown", 401, "The sender is not a known peer"
    MESSAGE_SENDER_REVOKED = "message_sender_revoked", 403, "The sender is revoked"
    MESSAGE_SENDER_SUSPENDED = "message_sender_suspended", 403, "The sender is suspended"
    MESSAGE_SIGNATURE_INVALID = ("message_signature_invalid", 401,
                                 "The message's signature does not verify")
    MESSAGE_SENDER_MISMATCH = ("message_sender_mismatch", 401,
                               "The message names another sender than its signer")
    MESSAGE_MISADDRESSED = "message_misaddressed", 422, "The message is for another node"
    MESSAGE_TYPE_UNSUPPORTED = ("message_type_unsupported", 422,
                                "This node does not take this message type")
    MESSAGE_STALE = "message_stale", 401, "The message is outside the replay window"
    MESSAGE_DUPLICATE = ("message_duplicate", 409,
                         "The message id was used before with other content")
    PEER_EXISTS = "peer_exists", 409, "The peer is registered already"
    PEER_INVALID = "peer_invalid", 422, "The peer's details are invalid"
    PEER_REVOKED = "peer_revoked", 409, "The peer is revoked for good"
    PEER_UNAVAILABLE = "peer_unavailable", 502, "The peer did not answer"
    PEER_REFUSED = "peer_refused", 502, "The peer refused the message"
    NOT_A_HUB = "not_a_hub", 409, "This node is not a clearing hub"


FEATURES: tuple[type[ProblemCode], ...] = (
    ClearingMessages,
    Edge, Text, Callers, Signatures, Idempotency, Ledger, Money, Escrow, Payments, Cards,
    Identity, Passkeys, Merchants, Certification, Webhooks, Keys, Records,
    Banking,
    Statements,
    Cheques,
    Transfers,
    BankJobs,
    RiskControls,
    Registry,
    Risk,
    RiskCases,
    Approvals,
    Lookup,
    Staff,
    FourEyesCommands,
    Supervision,
    Dashboard,
    MerchantUsers,
    NetSettlement,
    ClearingBank,
    ClearingHub,
)
REGISTRY: dict[str, ProblemCode] = {member.value: member for feature in FEATURES
                                    for member in feature}


def code_of(code: str) -> ProblemCode | None:
    """The registered member for a code string, or None."""
    return REGISTRY.get(code)


def status_of(code: str) -> int:
    """The HTTP status a code is answered with; 422 for a code no enum defines."""
    member = REGISTRY.get(code)
    return REFUSED_STATUS if member is None else member.status
