"""The local network's plan: every node a valid, distinct BIC, port and directory."""

from __future__ import annotations

from pathlib import PurePath

import pytest

from paywarden.domain.clearing.messages import check_bic
from paywarden.network import plan


def test_two_regions_of_two_banks_are_six_nodes_with_distinct_bics_ports_and_dirs() -> None:
    layout = plan(regions=2, banks=2, base_port=9000, root=PurePath("/x"))
    assert [n.name for n in layout.nodes] == ["hub-1", "bank-1a", "bank-1b",
                                             "hub-2", "bank-2a", "bank-2b"]
    assert [n.bic for n in layout.hubs] == ["PWXANL2A", "PWXBNL2A"]
    for node in layout.nodes:
        check_bic(node.bic)
    assert len({n.bic for n in layout.nodes}) == 6
    assert [n.port for n in layout.nodes] == list(range(9000, 9006))
    assert len({n.data_dir for n in layout.nodes}) == 6


def test_every_bank_knows_the_hub_of_its_own_region() -> None:
    layout = plan(regions=3, banks=1, base_port=9000, root=PurePath("/x"))
    for bank in layout.banks:
        assert layout.hub_of(bank).region == bank.region
    assert layout.node("PWCANL2A").name == "bank-3a"


def test_bank_codes_of_hubs_and_banks_never_collide_at_the_largest_network() -> None:
    layout = plan(regions=9, banks=9, base_port=9000, root=PurePath("/x"))
    assert len({n.bank_code for n in layout.nodes}) == 90


@pytest.mark.parametrize(("regions", "banks"), [(0, 1), (1, 0), (10, 1), (1, 10)])
def test_a_network_too_small_or_too_large_is_refused(regions: int, banks: int) -> None:
    with pytest.raises(ValueError):
        plan(regions=regions, banks=banks, base_port=9000, root=PurePath("/x"))
