"""Issue 11 item 8: a worker forked after the engine was built (gunicorn --preload, uWSGI)
used to share the parent's random stream, so parent and child handed out the same flow ids,
PINs and temporary passwords. Each process must draw its own."""

from __future__ import annotations

import json
import os
from typing import List

import pytest

from conftest import JANE, JANE_MAIL, World, make_world


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
