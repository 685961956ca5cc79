"""Rotating the server key: ``previous_keys=`` keeps a reset begun under the old key (its PIN
still verifies) and the decoy masks; without it the new key ends every pending reset."""

from __future__ import annotations

import pytest

import sspr

from conftest import JANE, JANE_MAIL, KEY, START, seed_directory

NEW_KEY = bytes([0xC3]) * 32


def test_a_pin_sent_before_a_rotation_verifies_after_and_decoys_stay() -> None:
    directory, outbox, clock = seed_directory(), sspr.Outbox(), sspr.ManualClock(START)
    store, contacts = sspr.MemoryStateStore(), sspr.MemoryContactStore()
    policy = sspr.Policy(min_response_ms=0)

    def engine(key: bytes, previous: list[bytes | str], seed: int) -> sspr.BlockingSspr:
        return sspr.BlockingSspr(
            directory, outbox, secret_key=key, previous_keys=previous, contacts=contacts, store=store,
            policy=policy, clock=clock, rng_seed=bytes([seed]) * 32,
        )

    old = engine(KEY, [], 1)
    old.set_enabled(JANE, True, admin="helpdesk")
    old.update_contacts(JANE, email=JANE_MAIL, admin="helpdesk")
    flow = old.begin_reset(JANE).flow_id
    old.send_pin(flow, "email")
    pin = outbox.last_pin_to(JANE_MAIL)
    assert pin is not None
    masks = [m.masked for m in old.begin_reset("nobody@example.org").methods]

    # The new key alone: the pending reset is lost, the decoy redrawn.
    new_only = engine(NEW_KEY, [], 2)
    with pytest.raises(sspr.WrongPin):
        new_only.verify_pin(flow, "00000000" if pin.reveal() != "00000000" else "11111111")
    assert [m.masked for m in new_only.begin_reset("nobody@example.org").methods] != masks

    # The new key with the old one as previous (hex is taken as well as bytes).
    ring = engine(NEW_KEY, [KEY.hex()], 3)
    assert [m.masked for m in ring.begin_reset("nobody@example.org").methods] == masks
    ring.verify_pin(flow, pin.reveal())
    assert ring.complete_reset(flow, mode="temporary").temporary_password is not None


def test_a_previous_key_of_the_wrong_length_is_a_config_error() -> None:
    with pytest.raises(sspr.ConfigError, match="previous_keys|secret key"):
        sspr.BlockingSspr(sspr.MemoryDirectory(), sspr.Outbox(), secret_key=KEY, previous_keys=[b"short"])
    with pytest.raises(sspr.ConfigError, match="previous_keys"):
        sspr.BlockingSspr(sspr.MemoryDirectory(), sspr.Outbox(), secret_key=KEY, previous_keys=[42])  # type: ignore[list-item]
