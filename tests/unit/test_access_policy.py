"""The access policy: deny by default, least privilege, object-level ownership."""

from __future__ import annotations

import pytest

from paywarden.domain.identity import (
    KIND_ROLES,
    ROLES,
    STAFF_ROLES,
    Access,
    Kind,
    Principal,
    Resource,
    decide,
)


def customer(user: str = "usr_a") -> Principal:
    return Principal(kind=Kind.CUSTOMER, id=user, roles=frozenset({"customer"}), owner=user)


def merchant(mer: str = "mer_a") -> Principal:
    return Principal(kind=Kind.MERCHANT, id=mer, roles=frozenset({"merchant"}), owner=mer)


def staff(*roles: str) -> Principal:
    return Principal(kind=Kind.STAFF, id="usr_staff", roles=frozenset(roles))


def test_a_principal_without_roles_is_refused_everything() -> None:
    nobody = Principal(kind=Kind.STAFF, id="usr_x", roles=frozenset())
    for resource in Resource:
        for access in Access:
            assert not decide(nobody, resource, access)


def test_an_unknown_role_grants_nothing() -> None:
    who = Principal(kind=Kind.STAFF, id="usr_x", roles=frozenset({"root"}))
    assert not decide(who, Resource.LEDGER, Access.READ)


def test_levels_are_ordered_a_grant_covers_the_lower_levels_only() -> None:
    operator = staff("operator")
    assert decide(operator, Resource.LEDGER, Access.READ)
    assert decide(operator, Resource.LEDGER, Access.WRITE)
    assert decide(operator, Resource.LEDGER, Access.MODIFY)
    refused = decide(operator, Resource.LEDGER, Access.FULL_CONTROL)
    assert not refused and refused.status == 403 and "full_control" in refused.reason


@pytest.mark.parametrize("resource", list(Resource))
def test_a_supervisor_reads_everything_and_changes_nothing(resource: Resource) -> None:
    supervisor = staff("supervisor")
    assert decide(supervisor, resource, Access.READ)
    for access in (Access.WRITE, Access.MODIFY, Access.FULL_CONTROL):
        assert not decide(supervisor, resource, access)


def test_support_cannot_move_money_and_operators_cannot_manage_staff() -> None:
    assert not decide(staff("support"), Resource.LEDGER, Access.READ)
    assert not decide(staff("operator"), Resource.STAFF, Access.READ)
    assert not decide(staff("operator"), Resource.TOKENS, Access.WRITE)


def test_a_customer_reaches_their_own_objects_and_another_is_hidden_as_not_found() -> None:
    alice = customer("usr_alice")
    assert decide(alice, Resource.PAYMENTS, Access.READ, owner="usr_alice")
    other = decide(alice, Resource.PAYMENTS, Access.READ, owner="usr_bob")
    assert not other and other.status == 404


def test_a_merchant_reaches_only_its_own_objects() -> None:
    shop = merchant("mer_shop")
    assert decide(shop, Resource.PAYMENTS, Access.MODIFY, owner="mer_shop")
    assert decide(shop, Resource.PAYMENTS, Access.READ, owner="mer_other").status == 404
    assert not decide(shop, Resource.LEDGER, Access.READ)


def test_an_owned_kind_without_an_owner_is_refused() -> None:
    orphan = Principal(kind=Kind.CUSTOMER, id="usr_x", roles=frozenset({"customer"}))
    assert not decide(orphan, Resource.PAYMENTS, Access.READ, owner="usr_x")


@pytest.mark.parametrize(("kind", "role"), [(Kind.CUSTOMER, "operator"),
                                            (Kind.MERCHANT, "supervisor"),
                                            (Kind.STAFF, "customer"),
                                            (Kind.CUSTOMER, "merchant")])
def test_a_principal_holding_a_role_its_kind_cannot_have_is_refused_everything(
        kind: Kind, role: str) -> None:
    forged = Principal(kind=kind, id="usr_x", roles=frozenset({role}), owner="usr_x")
    for resource in Resource:
        assert not decide(forged, resource, Access.READ, owner="usr_x")


def test_every_role_is_held_by_some_kind_and_staff_roles_exclude_customers() -> None:
    assert set(ROLES) == set().union(*KIND_ROLES.values())
    assert "customer" not in STAFF_ROLES and "merchant" not in STAFF_ROLES
