"""What the network lab does on a node's host that no command does, run as that node's
operator (``Network.call(node, "paywarden.testing.lab:service_token")``): the node's
settings come from its environment, as a command's do."""

from __future__ import annotations


def service_token() -> str:
    """A day's machine token for the simulated rail's inbound side (deposits from outside
    the network), issued with the node's own code as an operator with the host would after
    two people approved it."""
    from ..cli.common import open_platform, settings_from_env
    from ..services.identity.tokens import issue_service_token

    platform = open_platform(settings_from_env())
    try:
        return issue_service_token(platform.database, platform.sessions, name="network-lab",
                                   ttl_s=24 * 3600, ttl_s_max=24 * 3600,
                                   actor="cli:network-lab",
                                   now_ns=platform.clock.now_ns()).token
    finally:
        platform.database.dispose()


def store_return(uetr: str, reason: str) -> str:
    """Return the incoming transfer ``uetr`` as two people would have decided it (the
    ``clearing_return`` approval's effect), storing the pacs.004 without sending it: the
    node's own chore sends it, so a crash point in the node meets it. Its return UETR."""
    from ..cli.common import open_platform, settings_from_env

    platform = open_platform(settings_from_env())
    if platform.clearing_bank is None or platform.clearing is None:
        platform.database.dispose()
        raise RuntimeError("this node is not a bank of the clearing network")
    platform.start()  # the write path: no chores, so nothing here sends it
    try:
        return platform.clearing_bank.returns.start(uetr, reason=reason, actor="cli:lab",
                                                    send=False).uetr
    finally:
        platform.stop()


def fund_reserves(bic: str, amount_minor: str, currency: str, funding_id: str) -> str:
    """Fund ``bic``'s reserves at this hub as two operators would have approved it (the
    ``clearing_funding`` approval's effect); once per ``funding_id``."""
    from ..cli.common import open_platform, settings_from_env
    from ..domain.money import Money

    platform = open_platform(settings_from_env())
    if platform.clearing is None or platform.clearing.hub is None:
        platform.database.dispose()
        raise RuntimeError("this node is not a hub")
    platform.start()
    try:
        platform.clearing.peers.fund(bic, Money(int(amount_minor), currency),
                                     funding_id=funding_id, actor="cli:lab")
        return funding_id
    finally:
        platform.stop()


def request_recall(movement_id: str, reason: str) -> str:
    """Recall this bank's settled transfer ``movement_id`` (camt.056), as the command
    ``clearing recall`` would; the case id."""
    from sqlalchemy import select

    from ..adapters.store.schema import bank_clearing_out
    from ..cli.common import open_platform, settings_from_env

    platform = open_platform(settings_from_env())
    try:
        if platform.clearing_bank is None:
            raise RuntimeError("this node is not a bank of the clearing network")
        with platform.database.engine.connect() as conn:
            uetr = conn.execute(select(bank_clearing_out.c.uetr).where(
                bank_clearing_out.c.movement_id == movement_id)).scalar_one()
        return platform.clearing_bank.recalls.request(uetr, reason=reason,
                                                      actor="cli:lab").case_id
    finally:
        if platform.clearing is not None:
            platform.clearing.close()
        platform.database.dispose()


def answer_recall(case_id: str, answer: str) -> str:
    """Answer another bank's recall: ``accept`` as two people would have approved it (the
    return is made and sent), or ``refuse`` (CUST); the case's state."""
    from ..cli.common import open_platform, settings_from_env
    from ..domain.clearing.messages import return_id_for

    platform = open_platform(settings_from_env())
    if platform.clearing_bank is None:
        platform.database.dispose()
        raise RuntimeError("this node is not a bank of the clearing network")
    platform.start()  # the write path, for the return: no chores
    try:
        recalls = platform.clearing_bank.recalls
        if answer == "accept":
            recalls.accept(case_id, actor="cli:lab", return_id=return_id_for(case_id))
        else:
            recalls.refuse(case_id, reason="CUST", actor="cli:lab")
        return recalls.received(case_id).state
    finally:
        platform.stop()


def recall_state(case_id: str) -> str:
    """The recall case's state at this node (open, accepted, refused), or ``none``."""
    from ..cli.common import open_platform, settings_from_env

    platform = open_platform(settings_from_env())
    try:
        cases = platform.clearing.cases if platform.clearing is not None else None
        case = cases.get(case_id) if cases is not None else None
        return "none" if case is None else case.state
    finally:
        if platform.clearing is not None:
            platform.clearing.close()
        platform.database.dispose()
