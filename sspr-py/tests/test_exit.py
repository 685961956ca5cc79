"""A script ends right after its last call: the interpreter's exit must not catch one of sspr's
threads (the SQLite store's, the runtime's) inside Python. Before the `atexit` guard an asyncio
script on ``SqliteStore`` ended in SIGABRT or SIGSEGV about one run in six (the store's thread
waking the script's coroutine was between the loop's self-pipe write and taking the GIL back
when finalization began)."""

from __future__ import annotations

import pathlib
import subprocess
import sys

SCRIPT = '''
import asyncio, secrets, sspr

directory = sspr.MemoryDirectory()
directory.add("jdoe@example.org", "Jane Doe", "uid=jdoe,ou=staff,dc=example,dc=org")
outbox = sspr.Outbox()
store = sspr.backends.SqliteStore("sspr.db")
s = sspr.Sspr(directory, outbox, secret_key=secrets.token_bytes(32), contacts=store, store=store)

async def reset() -> None:
    await s.set_enabled("jdoe@example.org", True, admin="helpdesk")
    await s.update_contacts("jdoe@example.org", email="jane@home.example", admin="helpdesk")
    challenge = await s.begin_reset("jdoe@example.org")
    await s.send_pin(challenge.flow_id, challenge.methods[0].id)
    await s.flush_deliveries()
    pin = outbox.last_pin_to("jane@home.example")
    assert pin is not None
    await s.verify_pin(challenge.flow_id, pin)
    outcome = await s.complete_reset(challenge.flow_id)
    print(outcome.must_change)

asyncio.run(reset())
'''


def test_an_asyncio_script_on_sqlite_exits_cleanly(tmp_path: pathlib.Path) -> None:
    script = tmp_path / "reset.py"
    script.write_text(SCRIPT)
    for run in range(12):
        for leftover in tmp_path.glob("sspr.db*"):
            leftover.unlink()
        proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert (proc.returncode, proc.stdout) == (0, "True\n"), (run, proc.returncode, proc.stderr[-2000:])
