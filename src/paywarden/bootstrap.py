"""The composition root: builds the platform's parts once, from one Settings object.

Only this module reads ``Settings`` into the services: each service takes the
parts and values it needs as keyword-only arguments (``Payments`` is the model),
never the whole :class:`Platform`. The entry points (``api``, ``web``, ``cli``)
take what they need from the Platform. The layers, and the import-linter contracts
that keep them: docs/decisions/0023-layers-and-composition-root.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from .adapters import local_secrets
from .adapters.clock import Clock, SystemClock
from .adapters.store import Database, open_database
from .domain.escrow import FeeSchedule
from .domain.insider import parse_hours
from .services.access import Guard
from .services.alerts import Alerts, Mailer
from .services.approvals import Approvals
from .services.approvals.accounts import AccountUnfreeze
from .services.approvals.clearing_funding import ClearingFunding
from .services.approvals.clearing_returns import ClearingReturn
from .services.approvals.controls import BreakerReset, RegistryEntry, RiskRuleChange
from .services.approvals.disputes import DisputeDecision, held_decisions
from .services.approvals.engine import MAINTENANCE_INTERVAL_S as APPROVALS_INTERVAL_S
from .services.approvals.keyring import KeyDestruction
from .services.approvals.limits import LimitOverride
from .services.approvals.merchants import MerchantKey, MerchantReinstatement
from .services.approvals.money import LedgerTransfers, StaffRefund
from .services.audit.tree_heads import TreeHeads
from .services.backup import Backups
from .services.banking import Banking, Movements
from .services.banking.cheque_collection import FOLLOW_INTERVAL_S as CHEQUES_FOLLOW_INTERVAL_S
from .services.banking.cheques import Cheques
from .services.banking.interest import Interest
from .services.banking.safeguarding import Safeguarding
from .services.cards import CardVault
from .services.cards.issuer import CardIssuer
from .services.certification import Certification
from .services.certification.verification import Fetcher
from .services.clearing.bank import ClearingBank
from .services.clearing.node import ClearingNode
from .services.failstop import FailStop
from .services.idempotency import IdempotencyKeys
from .services.identity import Sessions
from .services.identity.assertions import RelyingParty
from .services.identity.credentials import Credentials
from .services.identity.passkeys import Passkeys
from .services.identity.stepup import StepUp
from .services.insider import Insider
from .services.integrity import Integrity, Release
from .services.integrity.hygiene import Private
from .services.keys import Keys
from .services.keys.due import alert_rotations_due
from .services.ledger import LedgerEngine
from .services.ledger.queries import LedgerQueries
from .services.lookup import Lookup
from .services.maintenance import (
    DATABASE_WATCH_INTERVAL_S,
    REWRAP_BATCH,
    Chore,
    Lane,
    Maintenance,
)
from .services.merchants import Merchants, Nonces, SignatureVerifier
from .services.merchants.users import MerchantUsers
from .services.merchants.users_refunds import MerchantRefund
from .services.payments import Payments
from .services.ratelimit import MEMORY_URI, RateLimits
from .services.registry import Registry
from .services.risk import Decisions, RiskEngine
from .services.risk.backtest import Backtests
from .services.risk.breakers import Breakers
from .services.risk.cases import Cases
from .services.risk.coverage import Coverage
from .services.risk.labels import Labels
from .services.risk.providers import BreakerFeed
from .services.risk.resolvers import BankResolver, PaymentResolver
from .services.risk.sanctions import Sanctions
from .services.staff import RoleGrant, ServiceCredential
from .services.webhooks import Dispatcher, Policy, Webhooks
from .services.writepath import GroupWriter
from .settings import Settings


@dataclass
class Platform:
    settings: Settings
    database: Database
    clock: Clock
    engine: LedgerEngine
    queries: LedgerQueries
    sessions: Sessions
    guard: Guard
    merchants: Merchants
    signatures: SignatureVerifier
    idempotency: IdempotencyKeys
    credentials: Credentials  # password + TOTP, recovery codes, sign-up, resets
    passkeys: Passkeys
    step_up: StepUp
    rate_limits: RateLimits
    keys: Keys  # the keyring: field encryption, blind indexes, signing keys
    payments: Payments
    card_issuer: CardIssuer  # the simulated issuer behind card payments
    cards: CardVault  # card numbers, sealed behind tokens
    failstop: FailStop  # how this process stops on a broken invariant (services/failstop.py)
    tree_heads: TreeHeads  # signs the audit tree's head
    webhooks: Webhooks  # merchants' endpoints, signed deliveries
    certification: Certification  # merchant certificates, the CA, check_can_sell
    backups: Backups  # `paywarden backup` and `restore`
    banking: Banking  # accounts, transfers, the rail (services/banking)
    cheques: Cheques  # electronic cheques (services/banking/cheques.py, decision 0026)
    alerts: Alerts  # staff alerts (services/alerts.py)
    registry: Registry  # the credit registry of dishonest parties (decision 0031)
    interest: Interest  # interest on savings: daily accrual, monthly posting
    safeguarding: Safeguarding  # the e-money safeguarding reconciliation
    sanctions: Sanctions  # sanctions screening (services/risk/sanctions.py, decision 0032)
    breakers: Breakers  # circuit breakers (services/risk/breakers.py, decision 0032)
    breaker_feed: BreakerFeed  # screenings' outcomes to the breakers, batched (0035)
    risk: RiskEngine  # screens every banking movement (services/risk, decision 0030)
    risk_decisions: Decisions  # reading and re-running recorded decisions
    risk_cases: Cases  # the analysts' queue: review cases, outcomes (decision 0034)
    risk_labels: Labels  # analysts' labels of decisions, exported for the retrain
    risk_backtests: Backtests  # a rule set version against the recorded past (0036)
    approvals: Approvals  # four-eyes: every command one person must not do alone (0041)
    lookup: Lookup  # staff look customers up, masked; reveals recorded (0046)
    merchant_users: MerchantUsers  # a merchant's people and its refund threshold (0051)
    integrity: Integrity  # its files against the signed release, its data private (0069)
    clearing_bank: ClearingBank | None = None  # the bank in the clearing network (0056)
    # The clearing network (decisions 0053, 0055). INTEGRATOR: built by
    # services/clearing/node.build_hub once the ISO 20022 codec and signer exist; None: this
    # node takes no clearing messages (POST /v1/clearing/messages answers 404).
    clearing: ClearingNode | None = field(default=None)
    _background: Maintenance | None = field(default=None, init=False, repr=False)
    _lanes: list[Lane] = field(default_factory=list, init=False, repr=False)

    @cached_property
    def origin_key(self) -> bytes:
        """Keys the digests of the devices and addresses users sign in from."""
        return local_secrets.load_or_create(self.settings.data_dir / "keys" / "origins.key")

    def start(self) -> None:
        from .services.sealed import seal_legacy

        self.keys.ensure()  # first versions now, not on a request
        seal_legacy(self.database, self.keys)  # the plaintext migration 0005 set aside
        self.engine.start()
        self.payments.start()

    def start_background(self) -> None:
        """A serving process's chores (:meth:`chores`), on the maintenance thread."""
        if self._background is None:
            self._background = Maintenance(self.chores(), on_fatal=self.failstop.crash)
            self._background.start()
            self._lanes = self.lanes()
            for lane in self._lanes:
                lane.start()

    def lanes(self) -> list[Lane]:
        """Chores on threads of their own: the integrity check once ``serve`` has armed it,
        and a clearing bank's link, woken by every transfer out it writes
        (services/maintenance.Lane)."""
        checks = [Lane("integrity.check", self.settings.integrity_interval_s,
                       self.integrity.check, on_fatal=self.failstop.crash)
                  ] if self.integrity.armed else []
        if self.clearing_bank is None:
            return checks
        link = Lane("clearing.link", self.settings.rail_interval_s,
                    self.clearing_bank.link.turn, on_fatal=self.failstop.crash)
        self.banking.movements.on_outgoing.append(link.wake)
        self.clearing_bank.link.landed = link.wake
        return [*checks, link]

    def chores(self) -> list[Chore]:
        """Watch the database file, sign tree heads, rotate and rewrap keys, deliver
        webhooks, fire payment timers, send to the rail, run standing orders, accrue and
        post interest, reconcile safeguarding, finish and expire approvals: each on its period (services/maintenance.py)."""
        def keys() -> None:
            self.keys.rotate_due()
            alert_rotations_due(self.keys, self.alerts, within_days=s.key_rotation_alert_days)
            self.keys.rewrap_step(REWRAP_BATCH)

        s = self.settings
        return [Chore("database.watch", DATABASE_WATCH_INTERVAL_S, self.database.check_file),
                Chore("audit.sign_tree_head", s.audit_sign_interval_s, self.tree_heads.sign_now),
                Chore("keys.maintain", s.key_maintenance_interval_s, keys),
                Chore("webhooks.deliver", s.webhook_dispatch_interval_s,
                      Dispatcher(self.webhooks.deliver_due).kick),
                Chore("payments.timers", s.payment_timer_interval_s, self.payments.run_due),
                *([Chore("banking.rail", s.rail_interval_s, self.banking.rail.run_due)]
                  if self.clearing_bank is None else []),  # else its lane: lanes()
                *([Chore("banking.cheques_collecting", CHEQUES_FOLLOW_INTERVAL_S,
                         self.clearing_bank.following.run_due)]
                  if self.clearing_bank is not None and self.clearing_bank.following else []),
                Chore("banking.standing_orders", s.standing_order_interval_s,
                      self.banking.standing_orders.run_due),
                Chore("banking.interest", s.interest_interval_s, self.interest.run),
                Chore("banking.safeguarding", s.safeguarding_interval_s,
                      self.safeguarding.reconcile),
                Chore("risk.breaker_feed", s.risk_breaker_feed_interval_s,
                      self.breaker_feed.run),
                Chore("approvals.maintain", APPROVALS_INTERVAL_S, self.approvals.maintain),
                *(self.clearing.chores(interval_s=s.clearing_chore_interval_s,
                                      window_cycle_s=s.clearing_window_cycle_s)
                  if self.clearing is not None else [])]

    def stop(self) -> None:
        if self._background is not None:
            self._background.stop()
            self._background = None
        for lane in self._lanes:
            lane.stop()
            if lane.wake in self.banking.movements.on_outgoing:
                self.banking.movements.on_outgoing.remove(lane.wake)
        self._lanes = []
        if self.clearing_bank is not None:
            self.clearing_bank.link.close()
        self.payments.stop()
        if self.clearing is not None:
            self.clearing.close()
        self.breaker_feed.flush()  # the last counts, before the database goes
        self.risk.close()
        self.engine.stop()
        self.database.dispose()


def build(settings: Settings, *, clock: Clock | None = None,
          database: Database | None = None) -> Platform:
    clock = clock or SystemClock()
    database = database or open_database(settings.database,
                                         replica_url=settings.read_database_url,
                                         staleness_s=settings.read_staleness_s)
    failstop = FailStop()
    if database.file is not None:
        database.file.watch(failstop.crash)  # removed, replaced, made read-only: stop
    engine = build_engine(settings, database=database, clock=clock, failstop=failstop)
    keys = build_keys(settings, database=database, clock=clock)
    sessions = Sessions(database, clock=clock, keys=keys, idle_s=settings.session_idle_s,
                        absolute_s=settings.session_absolute_s)
    credentials = build_credentials(settings, database=database, clock=clock, sessions=sessions)
    passkeys = Passkeys(database, clock=clock, keys=keys, sessions=sessions, rp=RelyingParty(
        rp_id=settings.webauthn_rp_id, rp_name=settings.webauthn_rp_name,
        origin=settings.public_url, timeout_s=settings.webauthn_timeout_s))
    step_up = StepUp(database, clock=clock, passkeys=passkeys,
                     amount_min=settings.step_up_amount_min)
    merchants = Merchants(database, clock=clock)
    signatures = SignatureVerifier(merchants, Nonces(
        database, clock=clock, batch_size_max=settings.nonce_batch_size_max,
        wait_s=settings.nonce_claim_wait_s), clock=clock, window_s=settings.signature_window_s)
    idempotency = IdempotencyKeys(database, clock=clock, keys=keys,
                                  ttl_s=settings.idempotency_ttl_s,
                                  lease_s=settings.idempotency_lease_s)
    cards = CardVault(database, clock=clock, keys=keys)
    tree_heads = TreeHeads(database, clock=clock, keys=keys)
    writer = GroupWriter(database, clock=clock, on_fatal=failstop.crash)  # the one write path
    queries = LedgerQueries(database)
    banking = build_banking(settings, database=database, clock=clock, engine=engine,
                            queries=queries, writer=writer, keys=keys, step_up=step_up)
    cheques = Cheques(database, clock=clock, keys=keys, step_up=step_up,
                      movements=banking.movements, rail=banking.rail.rail,
                      bank=banking.accounts.bank,
                      issuer=settings.public_url, rp_id=settings.webauthn_rp_id)
    alerts = Alerts(database, clock=clock, mailer=alert_mailer(settings))
    sanctions = Sanctions(database, clock=clock)
    breakers = Breakers(database, clock=clock, alerts=alerts)
    insider = Insider(clock=clock, hours=parse_hours(settings.insider_working_hours))
    registry = Registry(database, clock=clock, keys=keys, insider=insider,
                        issuer=settings.registry_issuer or settings.public_url,
                        region=settings.registry_region or settings.bank_country,
                        appeal_deadline_s=settings.registry_appeal_deadline_s,
                        feed_entries_max=settings.registry_feed_entries_max)
    risk = build_risk(settings, database=database, clock=clock, keys=keys, registry=registry,
                      sanctions=sanctions, breakers=breakers, writer=writer)
    breaker_feed = BreakerFeed(breakers, batch_size_max=settings.risk_breaker_feed_batch_max,
                               interval_s=settings.risk_breaker_feed_interval_s)
    risk.observers.append(breaker_feed.observe)  # every decision's outcome feeds the breakers
    banking.movements.screening = risk  # every banking movement is screened
    coverage = Coverage(risk)  # and the rest (decision 0036)
    banking.payees.screening = coverage
    payments = Payments(database, clock=clock, keys=keys, engine=engine,
                        fee=FeeSchedule(settings.payment_fee_bps,
                                        settings.payment_fee_fixed_minor),
                        session_ttl_s=settings.checkout_session_ttl_s, writer=writer)
    payments.screening = coverage
    approvals = Approvals(database, clock=clock, step_up=step_up, insider=insider,
                          ttl_s=settings.approval_ttl_s, crash_at=settings.crash_at)
    approvals.register(LedgerTransfers(engine))
    approvals.register(StaffRefund(payments))
    approvals.register(RoleGrant(database, sessions, clock=clock))
    approvals.register(ServiceCredential(clock=clock, ttl_s_max=settings.staff_token_ttl_s_max))
    approvals.register(RiskRuleChange(risk.rules))
    approvals.register(RegistryEntry(registry))
    approvals.register(BreakerReset(breakers, approvals))
    approvals.register(DisputeDecision(payments, clock=clock))
    approvals.register(MerchantReinstatement(database, clock=clock))
    approvals.register(KeyDestruction(keys))
    approvals.register(LimitOverride(database, banking.limits))
    approvals.register(MerchantKey(database, clock=clock))
    approvals.register(AccountUnfreeze(database, banking.accounts))
    approvals.register(MerchantRefund(payments))
    clearing = build_clearing(settings, database=database, clock=clock, writer=writer,
                              keys=keys)
    clearing_bank = build_clearing_bank(settings, database=database, clock=clock,
                                        movements=banking.movements, clearing=clearing,
                                        cheques=cheques)
    if clearing_bank is not None:
        approvals.register(ClearingReturn(database, clearing_bank.returns,
                                          clearing_bank.recalls))
    if clearing is not None and clearing.hub is not None:
        approvals.register(ClearingFunding(clearing.peers))
    return Platform(settings=settings, database=database, clock=clock, engine=engine,
                    merchants=merchants, signatures=signatures, idempotency=idempotency,
                    passkeys=passkeys, step_up=step_up,
                    queries=queries, sessions=sessions,
                    guard=Guard(database, clock=clock), credentials=credentials,
                    rate_limits=build_rate_limits(settings),
                    keys=keys, cards=cards, card_issuer=CardIssuer(cards, clock=clock),
                    failstop=failstop, tree_heads=tree_heads,
                    webhooks=Webhooks(database, clock=clock, keys=keys,
                                      policy=webhook_policy(settings)),
                    certification=build_certification(settings, database=database,
                                                      clock=clock, keys=keys),
                    backups=Backups(database, clock=clock, keys=keys, tree_heads=tree_heads),
                    payments=payments,
                    banking=banking, cheques=cheques, alerts=alerts,
                    interest=Interest(database, clock=clock, movements=banking.movements,
                                      queries=queries, rates_bps=settings.interest_rates_bps,
                                      grace_s=settings.interest_day_grace_s,
                                      days_per_run_max=settings.interest_days_per_run_max,
                                      crash_at=settings.crash_at),
                    safeguarding=build_safeguarding(database=database, clock=clock,
                                                    alerts=alerts),
                    sanctions=sanctions, breakers=breakers, breaker_feed=breaker_feed,
                    registry=registry,
                    risk=risk, risk_decisions=Decisions(database, clock=clock, engine=risk),
                    risk_cases=Cases(database, clock=clock, keys=keys,
                                     sla_s=settings.risk_case_sla_s, resolvers={
                                         "bank.": BankResolver(database, banking.movements),
                                         "payment.": PaymentResolver(
                                             payments, staff_decisions=held_decisions(
                                                 approvals))},
                                     crash_at=settings.crash_at),
                    risk_labels=Labels(database, clock=clock, insider=insider),
                    risk_backtests=Backtests(database, clock=clock, rules=risk.rules),
                    approvals=approvals,
                    lookup=Lookup(database, clock=clock, keys=keys, insider=insider,
                                  alerts=alerts),
                    merchant_users=MerchantUsers(database, clock=clock, keys=keys,
                                                 sessions=sessions),
                    integrity=build_integrity(settings, database=database, clock=clock,
                                              alerts=alerts),
                    clearing_bank=clearing_bank, clearing=clearing)


def build_risk(settings: Settings, *, database: Database, clock: Clock, keys: Keys,
               registry: Registry, sanctions: Sanctions, breakers: Breakers,
               writer: GroupWriter) -> RiskEngine:
    """The engine with the built-in feature providers, then the registry, sanctions,
    breakers, graph, merchant and model-input providers (decision 0035), and the learned
    score when a signed model file is configured."""
    from .services.risk import FeatureProvider, RuleStore, built_in, catalogue
    from .services.risk import providers as extra

    providers: list[FeatureProvider] = [
        *built_in(key=local_secrets.load_or_create(settings.data_dir / "keys" / "risk.key"),
                  new_origin_s=settings.risk_new_origin_s,
                  floor_minor=settings.risk_amount_floor_minor),
        extra.RegistryHits(registry, keys=keys, email_cache_s=settings.risk_email_cache_s),
        extra.SanctionsHits(sanctions), extra.BreakerCheck(breakers), extra.Graph(),
        extra.MerchantRates(cache_s=settings.risk_merchant_cache_s)]
    rules = RuleStore(database, clock=clock, catalogue=catalogue(providers),
                      cache_s=settings.risk_rules_cache_s)
    return RiskEngine(database, clock=clock, writer=writer, rules=rules, providers=providers,
                      scorer=extra.load_scorer(settings.risk_model_path,
                                               settings.risk_model_public_key_path),
                      deadline_ms=settings.risk_deadline_ms)


def build_banking(settings: Settings, *, database: Database, clock: Clock,
                  engine: LedgerEngine, queries: LedgerQueries, writer: GroupWriter,
                  keys: Keys, step_up: StepUp) -> Banking:
    from .adapters.rail import SimulatedRail
    from .services.banking import BankAccounts, Movements, RailLink
    from .services.banking.ibans import BankCode
    from .services.banking.limits import BankMaxima, Limits
    from .services.banking.payees import Payees
    from .services.banking.payment_files import PaymentFiles
    from .services.banking.standing_orders import StandingOrders
    from .services.banking.transfers import Transfers

    bank = BankCode(settings.bank_country, settings.bank_code)
    movements = Movements(clock=clock, writer=writer, database=database)
    payees = Payees(database, clock=clock, keys=keys, bank=bank, step_up=step_up,
                    cooling_off_s=settings.payee_cooling_off_s,
                    cooling_amount_max=settings.payee_cooling_amount_max)
    maxima = BankMaxima(settings.limit_per_transfer_max, settings.limit_per_day_max,
                        settings.limit_per_payee_max)
    transfers = Transfers(database, clock=clock, movements=movements, payees=payees,
                          step_up=step_up, maxima=maxima)
    accounts = BankAccounts(database, clock=clock, engine=engine, queries=queries, bank=bank)
    return Banking(database=database,
                   accounts=accounts,
                   movements=movements,
                   rail=RailLink(database, rail=SimulatedRail(), movements=movements),
                   payees=payees,
                   limits=Limits(database, clock=clock, keys=keys, step_up=step_up,
                                 maxima=maxima, raise_delay_s=settings.limit_raise_delay_s),
                   transfers=transfers,
                   standing_orders=StandingOrders(database, clock=clock, transfers=transfers,
                                                  step_up=step_up),
                   payment_files=PaymentFiles(
                       database, accounts=accounts, transfers=transfers, step_up=step_up,
                       backlog_max=settings.payment_files_backlog_max or None))


def build_clearing(settings: Settings, *, database: Database, clock: Clock,
                   writer: GroupWriter, keys: Keys) -> ClearingNode | None:
    """This node in the clearing network (decision 0053) when it has a BIC: its
    transport, identity and peers, and as a hub (``clearing_role`` hub or both) the hub
    with its CA and net windows. None: it takes no clearing messages."""
    from .adapters.iso20022 import codec, warm
    from .services.clearing.node import build_node

    if settings.clearing_bic is None:
        return None
    warm()
    hub = settings.clearing_role in ("hub", "both")
    return build_node(database, clock=clock, writer=writer, keys=keys,
                      bic=settings.clearing_bic, hub=hub, codec=codec,
                      replay_window_s=settings.clearing_replay_window_s,
                      body_bytes_max=settings.clearing_message_bytes_max,
                      send_timeout_s=settings.clearing_send_timeout_s,
                      crash_at=settings.crash_at)


def build_clearing_bank(settings: Settings, *, database: Database, clock: Clock,
                        movements: Movements, clearing: ClearingNode | None,
                        cheques: Cheques) -> ClearingBank | None:
    """The bank in the clearing network when ``clearing_hub`` is set: its transfers to
    other banks, and the cheques of other banks its customers present, then go to the hub
    instead of the simulated rail (decisions 0056, 0064), and the transport hands it what
    its hub sends. A node given a hub but no BIC refuses to start rather than use the
    rail silently."""
    from .domain.clearing.messages import Channel
    from .services.banking.cheque_collection import Collections, Following
    from .services.clearing.bank import ClearingLink, Directory, Incoming
    from .services.clearing.bank.cheques import ChequeCollector, ChequeDesk
    from .services.clearing.bank.directory import parse_hub
    from .services.clearing.bank.recalls import Recalls
    from .services.clearing.bank.returns import Returns
    from .services.clearing.node import TransportHubLink
    from .services.clearing.recall_cases import Cases

    if settings.clearing_hub is None:
        return None
    if clearing is None or settings.clearing_bic is None:
        raise RuntimeError("clearing_hub is set, but clearing_bic is not: this node cannot "
                           "speak to its hub")
    if clearing.hub is not None:  # its handlers would take the hub's messages
        raise RuntimeError(f"clearing_role is {settings.clearing_role} and clearing_hub is "
                           "set: a hub does not clear its own bank's transfers through a "
                           "hub yet; leave clearing_hub unset (its customers pay other banks "
                           "through the simulated rail) or run the bank as a node of its own")
    hub_bic, _url = parse_hub(settings.clearing_hub)
    hub = TransportHubLink(database, clearing.transport, hub_bic=hub_bic)
    directory = Directory(settings.clearing_directory)
    collector = ChequeCollector(hub, clock=clock, bic=settings.clearing_bic, hub_bic=hub_bic,
                                directory=directory)
    link = ClearingLink(database, clock=clock, movements=movements, hub=hub, hub_bic=hub_bic,
                        bic=settings.clearing_bic, directory=directory,
                        channel=Channel(settings.clearing_channel),
                        deadline_s=settings.clearing_deadline_s,
                        batch_max=settings.clearing_batch_max, crash_at=settings.crash_at)
    returns = Returns(database, clock=clock, movements=movements, link=link,
                      bic=settings.clearing_bic, hub_bic=hub_bic,
                      deadline_s=settings.clearing_deadline_s)
    cases = clearing.cases or Cases(database, clock=clock, transport=clearing.transport)
    bank = ClearingBank(link, Incoming(database, clock=clock, movements=movements,
                                       outgoing=link, bic=settings.clearing_bic,
                                       hub_bic=hub_bic, crash_at=settings.crash_at),
                        returns, Recalls(database, clock=clock, cases=cases, returns=returns,
                                         hub_bic=hub_bic),
                        ChequeDesk(Collections(database, clock=clock, cheques=cheques,
                                               movements=movements),
                                   clock=clock, bic=settings.clearing_bic, hub_bic=hub_bic,
                                   crash_at=settings.crash_at),
                        Following(database, clock=clock, collector=collector))
    cheques.collect_through(collector)
    clearing.serve_bank(bank.handlers())
    return bank


def build_integrity(settings: Settings, *, database: Database, clock: Clock,
                    alerts: Alerts) -> Integrity:
    """Checks the package this module is part of; ``serve`` arms it (decision 0069)."""
    from pathlib import Path

    from . import __version__
    from .adapters.store.probe import sqlite_path

    release = Release(root=Path(__file__).resolve().parent, version=__version__,
                      manifest=settings.release_manifest_path, key=settings.release_key,
                      unsigned=settings.allow_unsigned)
    private = Private(data_dir=settings.data_dir.resolve(),
                      keys_dir=(settings.data_dir / "keys").resolve(),
                      master_key=None if settings.master_key is not None
                      else settings.master_key_path.resolve(),
                      database_file=sqlite_path(settings.database))
    return Integrity(database, clock=clock, alerts=alerts, release=release, private=private)


def build_safeguarding(*, database: Database, clock: Clock, alerts: Alerts) -> Safeguarding:
    """The reconciliation, against the simulated safeguarding bank until a real one."""
    from .adapters.safeguarding import SimulatedSafeguardingBank
    from .services.banking.safeguarding import ledger_mirror

    bank = SimulatedSafeguardingBank(lambda currency: ledger_mirror(database, currency))
    return Safeguarding(database, clock=clock, bank=bank, alerts=alerts)


def alert_mailer(settings: Settings) -> Mailer | None:
    """Staff alerts by e-mail too, when SMTP and ``alerts_email_to`` are both set."""
    if settings.smtp_host is None or settings.alerts_email_to is None:
        return None
    from .adapters.notify.smtp import SmtpSender, SmtpSettings
    from .services.alerts import smtp_mailer

    smtp = SmtpSettings(host=settings.smtp_host, port=settings.smtp_port,
                        sender=settings.smtp_from, starttls=settings.smtp_starttls)

    def send(to: str, subject: str, body: str) -> None:
        with SmtpSender(smtp) as sender:
            sender.send(to=to, subject=subject, body=body)

    return smtp_mailer(send, to=settings.alerts_email_to)


def build_engine(settings: Settings, *, database: Database, clock: Clock,
                 failstop: FailStop) -> LedgerEngine:
    """The ledger engine; a broken invariant in its writer stops the process."""
    return LedgerEngine(database, clock=clock, queue_depth_max=settings.ledger_queue_depth_max,
                        expiry_interval_s=settings.ledger_expiry_interval_s,
                        wait_s=settings.ledger_wait_s, on_fatal=failstop.crash)


def build_keys(settings: Settings, *, database: Database, clock: Clock) -> Keys:
    from .adapters.crypto import local_master_key

    master = local_master_key(
        master_key=settings.master_key.get_secret_value() if settings.master_key else None,
        master_key_file=settings.master_key_path)
    return Keys(database, clock=clock, master=master,
                cryptoperiod_data_days=settings.key_cryptoperiod_data_days,
                cryptoperiod_signing_days=settings.key_cryptoperiod_signing_days,
                publish_retired_days=settings.key_publish_retired_days,
                cache_s=settings.key_cache_s)


def build_credentials(settings: Settings, *, database: Database, clock: Clock,
                      sessions: Sessions) -> Credentials:
    from .adapters.common_passwords import common_passwords
    from .services.identity.guessing import AddressThrottle
    from .services.identity.passwords import Passwords

    passwords = Passwords(time_cost=settings.password_time_cost,
                          memory_kib=settings.password_memory_kib,
                          parallelism=settings.password_parallelism,
                          concurrency_max=settings.password_hashing_concurrency_max,
                          wait_s=settings.password_hashing_wait_s, common=common_passwords())
    addresses = AddressThrottle(failures_max=settings.signin_address_failures_max,
                                lock_s=settings.signin_lock_s)
    return Credentials(database=database, clock=clock, sessions=sessions, keys=sessions.keys,
                       passwords=passwords,
                       addresses=addresses, failures_max=settings.signin_failures_max,
                       lock_s=settings.signin_lock_s, issuer=settings.webauthn_rp_name,
                       keys_dir=settings.data_dir / "keys")


def build_rate_limits(settings: Settings) -> RateLimits:
    """Counted in this process, or in Redis (``redis_url``) shared by every API process."""
    return RateLimits(storage_uri=settings.redis_url or MEMORY_URI, limits={
        "address": settings.rate_limit_address,
        "merchant_key": settings.rate_limit_merchant_key,
        "account": settings.rate_limit_account,
    })


def webhook_policy(settings: Settings) -> Policy:
    return Policy(horizon_s=settings.webhook_retry_horizon_s,
                  base_s=settings.webhook_backoff_base_s, max_s=settings.webhook_backoff_max_s,
                  timeout_s=settings.webhook_timeout_s, allow_http=settings.webhook_allow_http,
                  allow_private=settings.webhook_allow_private_addresses,
                  batch_max=settings.webhook_batch_max)


def build_certification(settings: Settings, *, database: Database, clock: Clock,
                        keys: Keys) -> Certification:
    """Domains are checked by fetching their token as ``domain_verification_*`` say."""
    fetcher = Fetcher(scheme=settings.domain_verification_scheme,
                      port=settings.domain_verification_port,
                      timeout_s=settings.domain_verification_timeout_s,
                      body_bytes_max=settings.domain_verification_body_bytes_max,
                      allow_private=settings.domain_verification_allow_private)
    return Certification(database, clock=clock, keys=keys, fetcher=fetcher,
                         validity_days=settings.certificate_validity_days,
                         public_url=settings.public_url)
