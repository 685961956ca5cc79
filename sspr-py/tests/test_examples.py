"""The examples in examples/python run: the CSV import against a real file with good and bad
rows (as a script and as a function), and the FastAPI portal through a whole reset."""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys

import pytest

import sspr
from conftest import KEY

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples" / "python"
sys.path.insert(0, str(EXAMPLES))

import import_contacts  # noqa: E402
import portal  # noqa: E402

USERS = [
    {"login": "ann@example.org", "display_name": "Ann Archer", "dn": "uid=ann,ou=staff,dc=example,dc=org"},
    {"login": "ben@example.org", "display_name": "Ben Baker", "dn": "uid=ben,ou=staff,dc=example,dc=org"},
    {"login": "cid@example.org", "display_name": "Cid Cook", "dn": "uid=cid,ou=staff,dc=example,dc=org"},
    {"login": "dee@example.org", "display_name": "Dee Dean", "dn": "uid=dee,ou=staff,dc=example,dc=org",
     "groups": ["Domain Admins"]},
]

CSV = """login,email,phone
ann@example.org,ann@home.example,+44 7400 900001
ben@example.org,not-an-address,
nobody@example.org,nobody@home.example,
cid@example.org,cid@home.example,12
dee@example.org,dee@home.example,
,x@home.example,
  BEN@example.org ,ben@home.example,
"""


def test_csv_import_script_reports_and_skips_bad_rows(tmp_path: pathlib.Path) -> None:
    (tmp_path / "users.json").write_text(json.dumps(USERS))
    (tmp_path / "users.csv").write_text(CSV)
    db = tmp_path / "sspr.db"
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / "import_contacts.py"), str(tmp_path / "users.csv"),
         "--admin", "alice", "--directory", str(tmp_path / "users.json"), "--contacts-db", str(db)],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "line 2: ann@example.org: enabled, contacts a***@h***.example, +44 ******* 01"
    assert lines[1].startswith("line 3: ben@example.org: skipped: invalid email")
    assert lines[2] == "line 4: nobody@example.org: skipped: no such user in the directory"
    assert lines[3].startswith("line 5: cid@example.org: skipped: invalid phone")
    assert lines[4] == "line 6: dee@example.org: skipped: not allowed (privileged)"
    assert lines[5].startswith("line 7: (empty): skipped: invalid login")
    assert lines[6] == "line 8: BEN@example.org: enabled, contacts b***@h***.example"
    assert lines[7] == "2 imported, 5 skipped"

    # The enrollments are in the database: exactly the good rows.
    directory = sspr.MemoryDirectory.from_json(json.dumps(USERS))
    store = sspr.backends.SqliteStore(db)
    engine = sspr.BlockingSspr(directory, sspr.Outbox(), secret_key=KEY, contacts=store)
    assert [engine.status(u["login"]).enabled for u in USERS] == [True, True, False, False]
    assert engine.contacts("ann@example.org").phone is not None
    assert engine.status("cid@example.org").email_masked is None


def test_csv_import_changes_nothing_for_a_bad_row() -> None:
    directory = sspr.MemoryDirectory.from_json(json.dumps(USERS))
    engine = sspr.BlockingSspr(directory, sspr.Outbox(), secret_key=KEY)
    rows = [
        {"login": "ann@example.org", "email": "ann@home.example", "phone": "+44 7400 900001"},
        {"login": "cid@example.org", "email": "cid@home.example", "phone": "12"},  # bad phone
        {"login": "ben@example.org", "email": "ben@home.example", "phone": ""},
    ]
    results = import_contacts.import_rows(engine, rows, "alice")
    assert [r.ok for r in results] == [True, False, True]
    cid = engine.status("cid@example.org")
    assert not cid.enabled and cid.email_masked is None, "a bad row was half imported"
    assert engine.status("ann@example.org").enabled and engine.status("ben@example.org").email_masked


def test_csv_import_usage_errors(tmp_path: pathlib.Path) -> None:
    (tmp_path / "users.json").write_text(json.dumps(USERS))
    (tmp_path / "bad.csv").write_text("user,mail\nann@example.org,a@b.example\n")
    assert import_contacts.main([str(tmp_path / "bad.csv"), "--admin", "a", "--directory", str(tmp_path / "users.json")]) == 2
    assert import_contacts.main([str(tmp_path / "missing.csv"), "--admin", "a", "--directory", str(tmp_path / "users.json")]) == 2


def test_portal_runs_a_whole_reset() -> None:
    from fastapi.testclient import TestClient

    engine, outbox = portal.demo_engine()
    client = TestClient(portal.create_app(engine, outbox))
    assert "Forgot your password" in client.get("/").text

    page = client.post("/reset", data={"login": "jdoe@example.org"})
    assert page.status_code == 200 and "j***@h***.example" in page.text
    flow = re.search(r"name='flow' value='([0-9a-f]{32})'", page.text)
    assert flow is not None
    # An unknown login gets a page of the same shape.
    decoy = client.post("/reset", data={"login": "nobody@example.org"})
    assert decoy.status_code == 200 and re.search(r"name='flow' value='[0-9a-f]{32}'", decoy.text)

    assert "Enter your code" in client.post("/send", data={"flow": flow[1], "method": "email"}).text
    wrong = client.post("/verify", data={"flow": flow[1], "pin": "00000000"})
    assert wrong.status_code == 400 and "4 attempt(s) left" in wrong.text
    pin = outbox.last_pin_to("jane@home.example")
    assert pin is not None
    assert "Code accepted" in client.post("/verify", data={"flow": flow[1], "pin": pin.reveal()}).text
    done = client.post("/complete", data={"flow": flow[1], "mode": "temporary"})
    shown = re.search(r"<code id='temporary-password'>([^<]+)</code>", done.text)
    assert shown is not None
    import html

    temporary = html.unescape(shown[1])
    signed = engine.blocking().sign_in("jdoe@example.org", temporary)
    assert signed.must_change
    again = client.post("/complete", data={"flow": flow[1], "mode": "temporary"})
    assert again.status_code == 410
    assert client.post("/reset", data={"login": "\x00"}).status_code == 400
    assert "jane@home.example" in client.get("/dev/outbox").text
