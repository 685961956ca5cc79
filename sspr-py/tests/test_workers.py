"""Several worker processes (gunicorn or uWSGI workers, each with its own engine) on one store, racing
wrong PINs at one flow from many threads: the PIN is voided after exactly `max_wrong_pins` compares, across
the processes, and the right PIN is refused afterwards."""

from __future__ import annotations

import collections
import json
import os
import pathlib
import subprocess
import sys
import time
from typing import Dict, List

import pytest

import sspr
from conftest import JANE, JANE_MAIL, KEY, seed_directory

# One worker process: its own engine on the shared store, 10 wrong PINs from 8 threads, each
# answer printed as one JSON list.
WORKER = """
import json, sys
from concurrent.futures import ThreadPoolExecutor
import sspr
from conftest import KEY, seed_directory
kind, where, contacts_path, flow, wrong, redis_url = sys.argv[1:7]
if kind == "sqlite":
    store = sspr.backends.SqliteStore(where, busy_timeout_ms=5000)
else:
    store = sspr.backends.RedisStore(redis_url, key_prefix=where)
contacts = sspr.backends.SqliteStore(contacts_path, busy_timeout_ms=5000)
s = sspr.BlockingSspr(seed_directory(), sspr.Outbox(), secret_key=KEY, contacts=contacts, store=store,
                      policy=sspr.Policy(min_response_ms=0))
def one(i):
    try:
        s.verify_pin(flow, wrong, sspr.RequestContext(client_ip=f"198.51.100.{i + 1}"))
        return "verified"
    except sspr.WrongPin as e:
        return f"wrong:{e.attempts_left}"
    except sspr.SsprError as e:
        return type(e).__name__
with ThreadPoolExecutor(8) as pool:
    print(json.dumps(list(pool.map(one, range(10)))))
"""


def race(kind: str, where: str, tmp: pathlib.Path) -> None:
    contacts_path = str(tmp / "contacts.db")
    redis_url = os.environ.get("SSPR_TEST_REDIS_URL", "")
    store = (sspr.backends.SqliteStore(where) if kind == "sqlite"
             else sspr.backends.RedisStore(redis_url, key_prefix=where))
    contacts = sspr.backends.SqliteStore(contacts_path)
    outbox = sspr.Outbox()
    s = sspr.BlockingSspr(seed_directory(), outbox, secret_key=KEY, contacts=contacts, store=store,
                          policy=sspr.Policy(min_response_ms=0))
    s.set_enabled(JANE, True, admin="h")
    s.update_contacts(JANE, email=JANE_MAIL, admin="h")
    challenge = s.begin_reset(JANE)
    s.send_pin(challenge.flow_id, "email")
    pin = outbox.last_pin_to(JANE_MAIL)
    assert pin is not None
    wrong = "11111111" if pin.reveal() == "00000000" else "00000000"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(pathlib.Path(__file__).parent)] + sys.path))
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, kind, where, contacts_path, challenge.flow_id, wrong, redis_url],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        for _ in range(4)
    ]
    answers: List[str] = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        answers += json.loads(out)
    counts: Dict[str, int] = collections.Counter(answers)
    max_wrong = sspr.Policy().max_wrong_pins
    # Each compare counts down once: the answers before the void carry attempts_left max-1 .. 1, each once;
    # the voiding compare answers PinVoided, and every later request is refused before any compare (the
    # PIN is void, or the user's progressive delay has started).
    assert sorted(a for a in answers if a.startswith("wrong:")) == sorted(
        f"wrong:{n}" for n in range(1, max_wrong)), counts
    assert counts["PinVoided"] >= 1, counts
    assert set(counts) - {"PinVoided", "RateLimited"} == {f"wrong:{n}" for n in range(1, max_wrong)}, counts
    with pytest.raises(sspr.PinVoided):
        s.verify_pin(challenge.flow_id, pin)


def test_worker_processes_on_one_sqlite_file_void_the_pin_after_exactly_max_wrong_pins(tmp_path: pathlib.Path) -> None:
    race("sqlite", str(tmp_path / "state.db"), tmp_path)


def test_worker_processes_on_one_redis_void_the_pin_after_exactly_max_wrong_pins(tmp_path: pathlib.Path) -> None:
    if not os.environ.get("SSPR_TEST_REDIS_URL"):
        pytest.fail("SSPR_TEST_REDIS_URL is not set: run the tests through ./scripts/test.sh, which starts Redis")
    race("redis", f"sspr-py-workers-{os.getpid()}-{time.time_ns()}:", tmp_path)
