"""Issue 11 item 8: a worker forked after the engine was built (gunicorn --preload, uWSGI)
used to share the parent's random stream, so parent and child handed out the same flow ids,
PINs and temporary passwords. Each process must draw its own."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from typing import Callable, List

import pytest

import sspr
from conftest import JANE, JANE_MAIL, KEY, World, make_world, seed_directory


def draws(world: World) -> List[str]:
    """Begin a reset, send a PIN, verify it and complete: the flow id, the PIN, the password."""
    s = world.blocking
    challenge = s.begin_reset(JANE)
    s.send_pin(challenge.flow_id, "email")
    pin = world.pin(JANE_MAIL)
    s.verify_pin(challenge.flow_id, pin)
    outcome = s.complete_reset(challenge.flow_id)
    assert outcome.temporary_password is not None
    return [challenge.flow_id, pin, outcome.temporary_password.reveal()]


@pytest.mark.parametrize("seeded", [False, True], ids=["os_seeded", "test_seed"])
def test_forked_worker_repeats_the_parents_flow_ids_pins_and_passwords(seeded: bool) -> None:
    world = make_world(seed=seeded)
    world.enroll()
    world.blocking.begin_reset(JANE)  # the parent has used its generator before the fork
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the worker: report its draws, and leave without running pytest's exit
        code = 0
        try:
            os.close(read_end)
            report = json.dumps(draws(world))
        except BaseException as e:  # noqa: BLE001 - the parent reports it
            report, code = json.dumps({"error": repr(e)}), 1
        os.write(write_end, report.encode())
        os._exit(code)
    os.close(write_end)
    parent = draws(world)
    with os.fdopen(read_end) as pipe:
        got = json.loads(pipe.read())
    _, status = os.waitpid(child, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"the worker failed: {got}"
    for what, mine, theirs in zip(["flow id", "PIN", "temporary password"], parent, got):
        assert mine != theirs, f"parent and forked worker drew the same {what}"


# Issue: the tokio runtime behind the engine's timer (padding) and its PIN deliveries was
# process-wide and started in the parent; a forked worker has none of its threads, so a padded
# answer never came back and a spawned delivery never ran. The child gets a hard deadline: a
# hang fails the test instead of hanging the suite.
CHILD_DEADLINE_S = 20


def default_engine() -> "tuple[sspr.BlockingSspr, sspr.Outbox]":
    """An engine on the DEFAULT policy (padded answers) and the real clock."""
    directory, outbox = seed_directory(), sspr.Outbox()
    engine = sspr.BlockingSspr(directory, outbox, secret_key=KEY)
    engine.set_enabled(JANE, True, admin="helpdesk")
    engine.update_contacts(JANE, email=JANE_MAIL, admin="helpdesk")
    return engine, outbox


def wait_for_pin(outbox: sspr.Outbox) -> str:
    """The PIN the (background) delivery put in the outbox, waited for up to the deadline."""
    deadline = time.monotonic() + CHILD_DEADLINE_S
    while time.monotonic() < deadline:
        pin = outbox.last_pin_to(JANE_MAIL)
        if pin is not None:
            return pin.reveal()
        time.sleep(0.01)
    raise AssertionError("no PIN was delivered")


def in_forked_child(work: Callable[[], str]) -> str:
    """Run `work` in a forked child with a hard deadline; its answer, or the failure."""
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        code = 0
        try:
            os.close(read_end)
            signal.signal(signal.SIGALRM, signal.SIG_DFL)  # the alarm kills a hung child
            signal.alarm(CHILD_DEADLINE_S)
            report = json.dumps({"ok": work()})
        except BaseException as e:  # noqa: BLE001 - the parent reports it
            report, code = json.dumps({"error": repr(e)}), 1
        os.write(write_end, report.encode())
        os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        text = pipe.read()
    _, status = os.waitpid(child, 0)
    assert not os.WIFSIGNALED(status), (
        f"the forked worker hung (killed by signal {os.WTERMSIG(status)} after {CHILD_DEADLINE_S} s)"
    )
    got = json.loads(text)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"the forked worker failed: {got}"
    return str(got["ok"])


def test_forked_worker_padded_answer_and_pin_delivery_hang_blocking() -> None:
    engine, outbox = default_engine()
    engine.begin_reset(JANE)  # the parent has started the runtime (padding) before the fork

    def work() -> str:
        challenge = engine.begin_reset(JANE)
        engine.send_pin(challenge.flow_id, "email")
        pin = wait_for_pin(outbox)
        assert engine.verify_pin(challenge.flow_id, pin) is not None
        return pin

    assert len(in_forked_child(work)) > 0


def test_forked_worker_padded_answer_and_pin_delivery_hang_asyncio() -> None:
    engine, outbox = default_engine()
    engine.begin_reset(JANE)
    aio = engine.asyncio()

    def work() -> str:
        async def flow() -> str:
            challenge = await aio.begin_reset(JANE)
            await aio.send_pin(challenge.flow_id, "email")
            deadline = time.monotonic() + CHILD_DEADLINE_S
            while (pin := outbox.last_pin_to(JANE_MAIL)) is None and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            assert pin is not None, "no PIN was delivered"
            await aio.verify_pin(challenge.flow_id, pin.reveal())
            return pin.reveal()

        return asyncio.run(flow())

    assert len(in_forked_child(work)) > 0
