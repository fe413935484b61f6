"""The password policy refuses what attackers try first; Argon2id hashing is explicit and capped."""

from __future__ import annotations

import threading

import pytest

from paywarden.adapters.common_passwords import common_passwords
from paywarden.domain.identity.passwords import (
    PasswordRefused,
    Personal,
    check_password,
    normalise_password,
)
from paywarden.services.identity.passwords import HashingBusy, Passwords

ALICE = Personal("alice.smith", "Alice Smith")


def refusal(password: str, personal: Personal = ALICE) -> str | None:
    try:
        check_password(normalise_password(password), personal=personal,
                       common=common_passwords())
    except PasswordRefused as exc:
        assert password not in exc.detail  # a refusal never repeats the password
        return exc.code
    return None


def cheap(**overrides: object) -> Passwords:
    options: dict[str, object] = {"time_cost": 2, "memory_kib": 19 * 1024, "parallelism": 1,
                                  "concurrency_max": 2, "wait_s": 0.05,
                                  "common": common_passwords()}
    options.update(overrides)
    return Passwords(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize("password", [
    "correct horse battery staple", "Tr0ub4dor&3-meets-zebra", "mauve kettle 83 orbit",
    "ünïcödé-pässwörd-ok", "9f3k-x8q2-m4v7", "a" * 3 + "bcq9zx!7wlpm",
])
def test_long_unusual_passwords_are_accepted(password: str) -> None:
    assert refusal(password) is None


@pytest.mark.parametrize(("password", "code"), [
    ("short-pw-1", "password_too_short"),
    ("x" * 257, "password_too_long"),
    ("qwerty123456", "password_common"),
    ("1q2w3e4r5t6y", "password_common"),
    ("password1234!", "password_common"),  # a common word with digits around it
    ("P@ssw0rd2024!!", "password_common"),  # and leetspeak undone
    ("Sunshine!!2025", "password_common"),
    ("aaaaaaaaaaaaaa", "password_repetitive"),
    ("abcabcabcabc", "password_repetitive"),
    ("hjklasdfgh!xz", "password_sequence"),
    ("abcdefghijkl9", "password_sequence"),
    ("1qaz2wsx3edc4rfv", "password_common"),
    ("zyxwvutsrqponm", "password_sequence"),
    ("alice.smith-rocks", "password_personal"),
    ("x-SMITH-vegetable", "password_personal"),
    ("4l1c3-is-my-key", "password_personal"),
    ("1990-01-31-pw!", "password_date"),
    ("31.01.1990xyz", "password_date"),
])
def test_weak_passwords_are_refused_with_a_clear_code(password: str, code: str) -> None:
    assert refusal(password) == code


def test_the_common_list_is_bundled_and_large() -> None:
    common = common_passwords()
    assert len(common) >= 10_000 and "password" in common and "123456" in common


def test_passwords_are_normalised_so_one_password_has_one_form() -> None:
    assert normalise_password("ﬁsh-café-ｐａｓｓ") == normalise_password("fish-café-pass")


def test_hashes_are_argon2id_with_the_parameters_given_at_the_call_site() -> None:
    stored = cheap().hash("mauve kettle 83 orbit")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert cheap().verify(stored, "mauve kettle 83 orbit").ok
    assert not cheap().verify(stored, "mauve kettle 83 orbiT").ok


def test_a_hash_made_with_weaker_parameters_is_marked_for_rehashing() -> None:
    stored = cheap().hash("mauve kettle 83 orbit")
    assert not cheap().verify(stored, "mauve kettle 83 orbit").needs_rehash
    assert cheap(time_cost=3).verify(stored, "mauve kettle 83 orbit").needs_rehash


def test_an_unknown_user_is_checked_against_a_dummy_hash_and_fails() -> None:
    passwords = cheap()
    assert passwords.verify(None, "anything at all here") == passwords.verify(None, "") \
        and not passwords.verify(None, "x").ok
    assert passwords._dummy_hash().startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_hashing_is_refused_as_busy_when_every_slot_stays_taken() -> None:
    passwords = cheap(concurrency_max=1, wait_s=0.05)
    slot = passwords._slot()
    slot.__enter__()
    try:
        with pytest.raises(HashingBusy) as caught:
            passwords.hash("mauve kettle 83 orbit")
        assert caught.value.retry_after_s >= 1
    finally:
        slot.__exit__(None, None, None)
    assert passwords.hash("mauve kettle 83 orbit")


def test_concurrent_hashing_never_exceeds_the_cap() -> None:
    passwords = cheap(concurrency_max=2, wait_s=30)
    inside, peak, lock = [0], [0], threading.Lock()
    real = passwords._hasher

    class Counting:
        def hash(self, password: str) -> str:
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            try:
                return real.hash(password)
            finally:
                with lock:
                    inside[0] -= 1

    passwords._hasher = Counting()  # type: ignore[assignment]
    threads = [threading.Thread(target=passwords.hash, args=("mauve kettle 83 orbit",))
               for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] <= 2
