"""The built-in backends of sspr-backends through the Python package: SQLite (a file), and
Redis, PostgreSQL and OpenLDAP against the real servers scripts/test.sh starts."""

from __future__ import annotations

import asyncio
import os
import pathlib
import subprocess
import time
from pathlib import Path
from typing import Any, List

import pytest

import sspr
from conftest import (JANE, JANE_MAIL, KEY, START, SyncDirectory, SyncNotifier, make_world, reset_by_outbox, run,
                      seed_directory, slow_log_shipper)


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the tests through ./scripts/test.sh, which starts the servers")
    return value


def full_flow(s: sspr.BlockingSspr, outbox: sspr.Outbox, login: str, address: str) -> sspr.Secret:
    c = s.begin_reset(login)
    s.send_pin(c.flow_id, "email")
    pin = outbox.last_pin_to(address)
    assert pin is not None
    s.verify_pin(c.flow_id, pin)
    outcome = s.complete_reset(c.flow_id)
    assert outcome.temporary_password is not None
    return outcome.temporary_password


def test_backends_of_this_build() -> None:
    assert set(sspr.backends.available()) >= {
        "SqliteStore", "RedisStore", "PostgresStore", "LdapDirectory", "LdapContactStore", "SmtpNotifier",
        "TwilioNotifier", "WebhookNotifier",
    }


def test_sqlite_file_keeps_enrollments_and_flows(tmp_path: pathlib.Path) -> None:
    db = tmp_path / "sspr.db"
    directory, outbox = seed_directory(), sspr.Outbox()
    store = sspr.backends.SqliteStore(db)
    s = sspr.BlockingSspr(directory, outbox, secret_key=KEY, contacts=store, store=store)
    s.set_enabled(JANE, True, admin="h")
    s.update_contacts(JANE, email=JANE_MAIL, admin="h")
    c = s.begin_reset(JANE)
    s.send_pin(c.flow_id, "email")
    del s, store

    # Another engine (another process, in real life) on the same file continues the flow.
    again = sspr.backends.SqliteStore(str(db), busy_timeout_ms=1000)
    s2 = sspr.BlockingSspr(directory, outbox, secret_key=KEY, contacts=again, store=again)
    assert s2.status(JANE).enabled
    pin = outbox.last_pin_to(JANE_MAIL)
    assert pin is not None
    s2.verify_pin(c.flow_id, pin)
    assert s2.complete_reset(c.flow_id).temporary_password is not None
    with pytest.raises(sspr.AlreadyUsed):
        s2.complete_reset(c.flow_id)


def test_sqlite_in_memory_and_bad_configuration(tmp_path: pathlib.Path) -> None:
    store = sspr.backends.SqliteStore()
    s = sspr.BlockingSspr(seed_directory(), sspr.Outbox(), secret_key=KEY, contacts=store, store=store)
    s.set_enabled(JANE, True, admin="h")
    with pytest.raises(sspr.ConfigError, match="busy_timeout"):
        sspr.backends.SqliteStore(tmp_path / "x.db", busy_timeout="soon")
    with pytest.raises(sspr.ConfigError, match="unknown field"):
        sspr.backends.SqliteStore(tmp_path / "x.db", no_such_option=1)
    with pytest.raises(sspr.BackendError):
        sspr.backends.SqliteStore(tmp_path / "missing-dir" / "x.db")


def test_sqlite_with_the_asyncio_api(tmp_path: pathlib.Path) -> None:
    store = sspr.backends.SqliteStore(tmp_path / "a.db")
    directory, outbox = seed_directory(), sspr.Outbox()
    s = sspr.Sspr(directory, outbox, secret_key=KEY, contacts=store, store=store)

    async def flow() -> List[object]:
        await s.set_enabled(JANE, True, admin="h")
        await s.update_contacts(JANE, email=JANE_MAIL, admin="h")
        c = await s.begin_reset(JANE)
        await s.send_pin(c.flow_id, "email")
        pin = outbox.last_pin_to(JANE_MAIL)
        assert pin is not None
        return await asyncio.gather(*(s.verify_pin(c.flow_id, pin) for _ in range(50)), return_exceptions=True)

    results = run(flow())
    assert sum(isinstance(r, sspr.Verified) for r in results) == 1


def test_redis_state_store_single_use_across_engines() -> None:
    url = env("SSPR_TEST_REDIS_URL")
    prefix = f"sspr-py-{os.getpid()}-{time.time_ns()}:"
    directory, outbox, contacts = seed_directory(), sspr.Outbox(), sspr.backends.SqliteStore()
    engines = [
        sspr.Sspr(directory, outbox, secret_key=KEY, contacts=contacts,
                  store=sspr.backends.RedisStore(url, key_prefix=prefix, response_timeout_ms=5000))
        for _ in range(2)
    ]

    async def flow() -> List[object]:
        a, b = engines
        await a.set_enabled(JANE, True, admin="h")
        await a.update_contacts(JANE, email=JANE_MAIL, admin="h")
        c = await a.begin_reset(JANE)
        await b.send_pin(c.flow_id, "email")  # another "instance" continues the flow
        pin = outbox.last_pin_to(JANE_MAIL)
        assert pin is not None
        racers = [e.verify_pin(c.flow_id, pin) for e in engines for _ in range(50)]
        return await asyncio.gather(*racers, return_exceptions=True)

    results = run(flow())
    assert sum(isinstance(r, sspr.Verified) for r in results) == 1, results
    # Every attempt is counted before its PIN is compared, so racers past the per-client cap
    # are refused (Blocked) or delayed (RateLimited) before they compare at all.
    allowed = (sspr.Verified, sspr.AlreadyUsed, sspr.InvalidState, sspr.Blocked, sspr.RateLimited)
    assert all(isinstance(r, allowed) for r in results), results


def test_a_bad_tls_file_of_a_redis_store_is_a_config_error_naming_its_field(tmp_path: pathlib.Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a PEM file\n")
    # Port 1: nothing listens there, so only a check made before connecting can say Config.
    url = "rediss://127.0.0.1:1/"
    for fields, field in [
        ({"ca_file": str(tmp_path / "missing.pem")}, "ca_file"),
        ({"ca_file": str(junk)}, "ca_file"),
        ({"client_cert_file": str(junk)}, "client_key_file"),
        ({"client_cert_file": str(junk), "client_key_file": str(junk)}, "client_"),
    ]:
        with pytest.raises(sspr.ConfigError) as raised:
            sspr.backends.RedisStore(url, **fields)
        assert field in str(raised.value), (fields, raised.value)


def test_a_bad_ca_file_of_a_postgres_store_is_a_config_error_naming_its_setting(tmp_path: pathlib.Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a PEM file\n")
    # Port 1: nothing listens there, so only a check made before connecting can say Config.
    url = "postgres://sspr:s3cret@127.0.0.1:1/sspr"
    for url_, fields, setting in [
        (url, {"ca_file": str(tmp_path / "missing.pem")}, "ca_file"),
        (url, {"ca_file": str(junk)}, "ca_file"),
        (f"{url}?sslmode=verify-ca&sslrootcert={junk}", {}, "sslrootcert"),
        (f"{url}?sslmode=verify-everything", {}, "sslmode"),
    ]:
        with pytest.raises(sspr.ConfigError) as raised:
            sspr.backends.PostgresStore(url_, **fields)
        text = str(raised.value)
        assert setting in text and "s3cret" not in text, (fields, text)


def test_redis_unreachable_is_a_backend_error() -> None:
    with pytest.raises(sspr.BackendError) as err:
        sspr.backends.RedisStore("redis://127.0.0.1:1/", connect_timeout_ms=300)
    assert err.value.kind == "unavailable"


def test_postgres_contacts_and_state() -> None:
    url = env("SSPR_TEST_POSTGRES_URL")
    store = sspr.backends.PostgresStore(url, pool_size=2)
    directory, outbox = SyncDirectory(), sspr.Outbox()
    login = f"pg{os.getpid()}x{time.time_ns() % 10**9}@example.org"
    directory.add(login, "Pat Postgres")
    s = sspr.BlockingSspr(directory, outbox, secret_key=KEY, contacts=store, store=store)
    s.set_enabled(login, True, admin="h")
    s.update_contacts(login, email="pat@home.example", admin="h")
    temp = full_flow(s, outbox, login, "pat@home.example")
    assert directory.passwords[f"uid={login.split('@')[0]}"] == temp.reveal()
    # A second engine (another instance) sees the same enrollment.
    other = sspr.BlockingSspr(directory, outbox, secret_key=KEY, contacts=sspr.backends.PostgresStore(url), store=store)
    assert other.status(login).last_reset_at is not None


def ldapadd(ldif: str) -> None:
    cmd = ["ldapadd", "-x", "-ZZ", "-H", env("SSPR_TEST_LDAP_URL"), "-D", env("SSPR_TEST_LDAP_ADMIN_DN"),
           "-w", env("SSPR_TEST_LDAP_ADMIN_PASSWORD")]
    proc = subprocess.run(cmd, input=ldif, text=True, capture_output=True, timeout=30,
                          env={**os.environ, "LDAPTLS_CACERT": env("SSPR_TEST_CA")})
    assert proc.returncode == 0, proc.stderr


def test_openldap_directory_and_contact_store() -> None:
    uid = f"py{os.getpid()}x{time.time_ns() % 10**9}"
    base = env("SSPR_TEST_LDAP_BASE")
    ldapadd(
        f"dn: uid={uid},ou=staff,ou=people,{base}\nobjectClass: inetOrgPerson\nobjectClass: ssprAccount\n"
        f"uid: {uid}\ncn: Py Thon\nsn: Thon\ndisplayName: Py Thon\nuserPassword: Init-Passw0rd-1\n"
    )
    directory = sspr.backends.LdapDirectory(
        url=env("SSPR_TEST_LDAP_URL"), starttls=True, ca_file=env("SSPR_TEST_CA"), base_dn=base,
        bind_dn=env("SSPR_TEST_LDAP_BIND_DN"), bind_password=sspr.Secret(env("SSPR_TEST_LDAP_BIND_PASSWORD")),
    )
    assert env("SSPR_TEST_LDAP_BIND_PASSWORD") not in repr(directory)
    contacts = sspr.backends.LdapContactStore(
        directory, email_attribute="ssprAltMail", phone_attribute="mobile",
        enabled_attribute="ssprEnabled", record_attribute="ssprEnrollment",
        record_key=sspr.Secret("py test record key, at least 32 bytes long"),
    )
    assert "py test record key" not in repr(contacts)
    outbox = sspr.Outbox()
    s = sspr.BlockingSspr(directory, outbox, secret_key=KEY, contacts=contacts)
    assert s.sign_in(uid, "Init-Passw0rd-1").must_change is False
    s.set_enabled(uid, True, admin="h")
    s.update_contacts(uid, email="py@home.example", admin="h")
    temp = full_flow(s, outbox, uid, "py@home.example")
    signed = s.sign_in(uid, temp)
    assert signed.must_change is True and signed.display_name == "Py Thon"
    with pytest.raises(sspr.SignInFailed):
        s.sign_in(uid, "Init-Passw0rd-1")
    assert [u.login for u in s.search_users(uid)] == [uid]

    async def unknown() -> sspr.ResetChallenge:
        return await s.asyncio().begin_reset("*)(uid=*")

    assert len(run(unknown()).methods) >= 1  # escaped by the directory: a decoy, not everybody


def test_check_privileged_groups_names_a_group_whose_members_the_service_account_cannot_see() -> None:
    # cn=hidden-admins (scripts/servers/ldap): an ACL hides its members from the service account,
    # so its admin would read as an ordinary user; the engine treats everyone as privileged and
    # the host can refuse to start.
    base = env("SSPR_TEST_LDAP_BASE")
    directory = sspr.backends.LdapDirectory(
        url=env("SSPR_TEST_LDAP_URL"), starttls=True, ca_file=env("SSPR_TEST_CA"), base_dn=base,
        bind_dn=env("SSPR_TEST_LDAP_BIND_DN"), bind_password=sspr.Secret(env("SSPR_TEST_LDAP_BIND_PASSWORD")),
    )

    def engine(group: str) -> sspr.BlockingSspr:
        return sspr.BlockingSspr(directory, sspr.Outbox(), secret_key=KEY,
                                 policy=sspr.Policy(min_response_ms=0, privileged_groups=[group]))

    with pytest.raises(sspr.BackendError, match="hidden-admins") as hidden:
        engine(f"cn=hidden-admins,ou=groups,{base}").check_privileged_groups()
    assert env("SSPR_TEST_LDAP_BIND_PASSWORD") not in str(hidden.value)
    assert engine(f"cn=privileged,ou=groups,{base}").check_privileged_groups() is None

    async def on_asyncio() -> None:
        await engine(f"cn=privileged,ou=groups,{base}").asyncio().check_privileged_groups()

    run(on_asyncio())


def test_ldap_bad_configuration() -> None:
    with pytest.raises(sspr.ConfigError, match="bind_dn"):
        sspr.backends.LdapDirectory(url="ldaps://127.0.0.1:1", base_dn="dc=x")


def pin_from_maildir(address: str, timeout: float = 15.0) -> str:
    """The PIN of the newest mail to `address` in the SMTP sink's Maildir."""
    import email
    import email.policy
    import re

    maildir = pathlib.Path(env("SSPR_TEST_MAILDIR"))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = []
        for sub in ("new", "cur"):
            for path in (maildir / sub).glob("*") if (maildir / sub).is_dir() else []:
                msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                if address in str(msg.get("To", "")):
                    found.append((path.stat().st_mtime, msg))
        for _, msg in sorted(found, key=lambda m: m[0], reverse=True):
            body = msg.get_body(preferencelist=("plain",))
            match = re.search(r"\b(\d{6,12})\b", body.get_content() if body is not None else "")
            if match:
                return match.group(1)
        time.sleep(0.1)
    pytest.fail(f"no PIN mail to {address} within {timeout}s")


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_smtp_notifier_delivers_the_pin(tls: str) -> None:
    port = env("SSPR_TEST_SMTP_STARTTLS_PORT" if tls == "starttls" else "SSPR_TEST_SMTP_TLS_PORT")
    notifier = sspr.backends.SmtpNotifier(
        host=env("SSPR_TEST_SMTP_HOST"), port=int(port), tls=tls, from_="Password reset <no-reply@example.org>",
        username=env("SSPR_TEST_SMTP_USER"), password=sspr.Secret(env("SSPR_TEST_SMTP_PASSWORD")),
        ca_file=env("SSPR_TEST_CA"),
    )
    assert env("SSPR_TEST_SMTP_PASSWORD") not in repr(notifier)
    address = f"py{os.getpid()}x{time.time_ns() % 10**9}@mail.example"
    directory = seed_directory()
    s = sspr.Sspr(directory, notifier, secret_key=KEY)

    async def flow() -> sspr.ResetOutcome:
        await s.set_enabled(JANE, True, admin="h")
        await s.update_contacts(JANE, email=address, admin="h")
        c = await s.begin_reset(JANE)
        await s.send_pin(c.flow_id, "email")
        await s.flush_deliveries()  # the mail goes out off the request path
        pin = await asyncio.get_running_loop().run_in_executor(None, pin_from_maildir, address)
        await s.verify_pin(c.flow_id, pin)
        return await s.complete_reset(c.flow_id)

    assert run(flow()).temporary_password is not None


def test_smtp_relay_unreachable_is_a_backend_error() -> None:
    notifier = sspr.backends.SmtpNotifier(host="127.0.0.1", port=1, tls="none", sender="no-reply@example.org", timeout_ms=500)
    audit = sspr.MemoryAuditSink()
    s = sspr.BlockingSspr(seed_directory(), notifier, secret_key=KEY, audit=audit, clock=sspr.ManualClock(START))
    s.set_enabled(JANE, True, admin="h")
    s.update_contacts(JANE, email=JANE_MAIL, admin="h")
    c = s.begin_reset(JANE)
    # Not the caller's business (an unknown login would not see it): the audit trail says it.
    s.send_pin(c.flow_id, "email")
    s.flush_deliveries()
    failed = [e for e in audit.events() if e["kind"] == "pin_sent" and e["outcome"]["result"] == "failed"]
    assert len(failed) == 1 and "Unavailable" in failed[0]["outcome"]["error"], failed
    with pytest.raises(sspr.ConfigError, match="from"):
        sspr.backends.SmtpNotifier(host="127.0.0.1")


def test_network_backends_are_freed_outside_the_runtime() -> None:
    """Python frees objects on its own threads: dropping pools and clients must not panic."""
    import gc

    store = sspr.backends.RedisStore(env("SSPR_TEST_REDIS_URL"))
    pg = sspr.backends.PostgresStore(env("SSPR_TEST_POSTGRES_URL"), pool_size=1)
    engine = sspr.Sspr(seed_directory(), sspr.Outbox(), secret_key=KEY, store=store, contacts=pg)
    run(engine.begin_reset("nobody@example.org"))
    blocking = engine.blocking()
    del store, pg, engine
    gc.collect()
    blocking.begin_reset("nobody@example.org")
    del blocking
    gc.collect()


def configured_flow(b: Any) -> None:
    """A whole reset on backends from sspr.backends.from_config (in-memory directory, outbox)."""
    assert b.memory_directory is not None and b.outbox is not None
    login = f"cfg{os.getpid()}x{time.time_ns() % 10**9}@example.org"
    b.memory_directory.add(login, "Cora Config", f"uid={login},ou=staff,dc=example,dc=org")
    s = sspr.BlockingSspr(b.directory, b.notifier, secret_key=KEY, contacts=b.contacts, store=b.store,
                          policy=sspr.Policy(min_response_ms=0))
    s.set_enabled(login, True, admin="h")
    s.update_contacts(login, email="cora@home.example", admin="h")
    reset_by_outbox(s, b.outbox, login, "cora@home.example")


def test_backends_from_a_config_dict_on_postgres_and_redis() -> None:
    prefix = f"sspr-py-cfg-{os.getpid()}-{time.time_ns()}:"
    b = sspr.backends.from_config({
        "store": {"kind": "postgres", "url": env("SSPR_TEST_POSTGRES_URL")},
        "state": {"kind": "redis", "url": env("SSPR_TEST_REDIS_URL"), "key_prefix": prefix},
    })
    assert b.state_is_shared
    configured_flow(b)


def test_backends_from_a_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "backends.toml"
    path.write_text(f'[store]\nkind = "sqlite"\npath = "{tmp_path / "sspr.db"}"\n')
    b = sspr.backends.from_config(str(path))
    configured_flow(b)
    assert (tmp_path / "sspr.db").exists()
    path.write_text('[store]\nkind = "mongodb"\n')
    with pytest.raises(sspr.ConfigError):
        sspr.backends.from_config(path)


SECRET_NUMBER = 31415926535

# A secret typed as a number (or a boolean, or a list) used to come back in the error,
# "invalid type: integer `31415926535`, expected a string", and errors reach logs.
@pytest.mark.parametrize("value,kind", [
    (SECRET_NUMBER, "integer"),
    (SECRET_NUMBER + 0.5, "floating point"),
    (True, "boolean"),
    ([SECRET_NUMBER], "sequence"),
])
def test_a_secret_of_the_wrong_type_is_named_not_quoted(value: Any, kind: str) -> None:
    tables: List[Any] = [
        {"notifier": {"kind": "smtp", "host": "h", "from": "a@b.org", "password": value}},
        {"state": {"kind": "redis", "url": value}},
        {"store": {"kind": "postgres", "url": value}},
        {"sms": {"kind": "twilio", "account_sid": "AC1", "from": "+15005550006", "auth_token": value}},
        {"directory": {"kind": "ldap", "url": "ldaps://h", "base_dn": "dc=x", "bind_dn": "cn=a",
                       "bind_password": value}},
    ]
    for table in tables:
        with pytest.raises(sspr.ConfigError) as refused:
            sspr.backends.from_config(table)
        assert str(SECRET_NUMBER) not in str(refused.value) and "`true`" not in str(refused.value)
        assert kind in str(refused.value), str(refused.value)
    # The classes read the same types.
    with pytest.raises(sspr.ConfigError) as refused:
        sspr.backends.WebhookNotifier(url="https://h/x", key=value)
    assert str(SECRET_NUMBER) not in str(refused.value) and kind in str(refused.value), str(refused.value)


def test_nightly_registration_job_against_slapd(tmp_path: pathlib.Path) -> None:
    """examples/python/nightly_registration.py as a new user runs it, on a portal TOML whose
    directory is the real slapd: the user's `mail` attribute is where the reminder goes."""
    import csv
    import sys

    uid = f"night{os.getpid()}x{time.time_ns() % 10**9}"
    base = env("SSPR_TEST_LDAP_BASE")
    ldapadd(
        f"dn: uid={uid},ou=staff,ou=people,{base}\nobjectClass: inetOrgPerson\n"
        f"uid: {uid}\ncn: Night Owl\nsn: Owl\ndisplayName: Night Owl\nmail: {uid}@example.org\n"
        "userPassword: Init-Passw0rd-1\n"
    )
    data = tmp_path / "data"
    data.mkdir()
    (data / "secret.key").write_text(KEY.hex())
    config = tmp_path / "portal.toml"
    config.write_text(
        '[directory]\nkind = "ldap"\n'
        f'url = "{env("SSPR_TEST_LDAP_URL")}"\nstarttls = true\nca_file = "{env("SSPR_TEST_CA")}"\n'
        f'base_dn = "{base}"\nbind_dn = "{env("SSPR_TEST_LDAP_BIND_DN")}"\n'
        f'bind_password = "{env("SSPR_TEST_LDAP_BIND_PASSWORD")}"\n'
        f'[store]\nkind = "sqlite"\npath = "{data / "sspr.sqlite"}"\n'
        '[policy]\nregistration_url = "https://sspr.example.org/passwordnotification"\nmin_response_ms = 0\n'
    )
    # The admin enabled the new user (contacts in the portal's SQLite file, none yet).
    import tomllib

    tables = {k: v for k, v in tomllib.loads(config.read_text()).items() if k != "policy"}
    b = sspr.backends.from_config(tables, data_dir=str(data))
    s = sspr.BlockingSspr(b.directory, b.notifier, secret_key=KEY, contacts=b.contacts, store=b.store,
                          policy=sspr.Policy(min_response_ms=0))
    s.set_enabled(uid, True, admin="h")
    del s, b

    script = pathlib.Path(__file__).resolve().parents[2] / "examples" / "python" / "nightly_registration.py"
    report = tmp_path / "report.csv"
    args = [sys.executable, str(script), "--config", str(config), "--data-dir", str(data), "--report", str(report),
            "--ou", f"ou=people,{base}", "--remind"]
    first = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert f"reminded: {uid}" in first.stdout.splitlines(), first.stdout
    assert f"outbox (not sent): to {uid}@example.org: Register contact details" in first.stdout
    rows = {r["login"]: r for r in csv.DictReader(report.open())}
    assert rows[uid]["without_contacts"] == "True" and rows[uid]["directory_mail"] == "True", rows[uid]
    assert len(rows) > 1, "slapd's other users are in the report too"
    second = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert f"reminded: {uid}" not in second.stdout.splitlines(), second.stdout


# A host process as a web app runs one: backends from `from_config` with an `audit` sink (behind
# the queue `from_config` puts in front of it), a burst of requests, one whole reset, then the
# process ends at once (`os._exit`, as a killed or crashing worker does; a plain exit may leave
# the queue's threads a moment more). argv: the audit table as JSON, the file to write the
# flow's secrets to, and "flush" or "exit".
AUDIT_HOST = r"""
import json, os, sys
import sspr
audit, secrets_path, ending = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
b = sspr.backends.from_config({"audit": audit})
assert b.audit is not None and b.memory_directory is not None and b.outbox is not None
login = "quinn@example.org"
b.memory_directory.add(login, "Quinn Queue", "uid=quinn,ou=staff,dc=example,dc=org")
s = sspr.BlockingSspr(b.directory, b.notifier, secret_key=bytes(range(32)), contacts=b.contacts, store=b.store,
                      audit=b.audit, policy=sspr.Policy(min_response_ms=0))
s.set_enabled(login, True, admin="helpdesk")
s.update_contacts(login, email="quinn@home.example", admin="helpdesk")
for n in range(BURST):
    s.begin_reset(f"nobody{n}@example.org")
flow = s.begin_reset(login).flow_id
s.send_pin(flow, "email")
s.flush_deliveries()
pin = b.outbox.last_pin_to("quinn@home.example")
s.verify_pin(flow, pin)
password = s.complete_reset(flow).temporary_password
if ending == "flush":
    s.flush_deliveries()
    s.flush_audit()
with open(secrets_path, "w") as f:
    json.dump([pin.reveal(), password.reveal()], f)
os._exit(0)
""".replace("BURST", "2000")

FLOW_KINDS = {"contacts_changed", "reset_requested", "pin_sent", "pin_verified", "reset_completed"}
# The burst's 2000 and the reset's own.
REQUESTED = 2001


def audit_host(tmp_path: Path, audit: dict[str, Any], ending: str = "flush") -> List[str]:
    """Run AUDIT_HOST to its exit; the flow's secrets (PIN, temporary password)."""
    import json
    import sys

    secrets = tmp_path / "secrets.json"
    done = subprocess.run([sys.executable, "-c", AUDIT_HOST, json.dumps(audit), str(secrets), ending],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found: List[str] = json.loads(secrets.read_text())
    assert all(found), "the child saw the PIN and the temporary password"
    return found


def test_flush_audit_stores_every_event_in_sqlite_before_the_host_exits(tmp_path: Path) -> None:
    """The attack on durability: a host exits right after a reset. Without `flush_audit` the
    events still in the queue died with the process (the SQLite file missed the last steps)."""
    import sqlite3

    db = tmp_path / "audit.sqlite"
    secrets = audit_host(tmp_path, {"kind": "sqlite", "path": str(db)})
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT kind, outcome, event FROM sspr_audit ORDER BY id").fetchall()
    kinds = [kind for kind, _, _ in rows]
    assert FLOW_KINDS <= set(kinds), kinds[-8:]
    assert (kinds.count("reset_requested"), kinds[-1]) == (REQUESTED, "reset_completed"), kinds[-8:]
    stored = db.read_bytes().decode("latin-1") + "".join(event for _, _, event in rows)
    for secret in secrets:
        assert secret not in stored, "a PIN or password reached the audit database"


def test_flush_audit_stores_every_event_in_a_json_lines_file_before_the_host_exits(tmp_path: Path) -> None:
    """The same on a JSON-lines "file" that is a pipe to a slow log shipper (this test reading 4 KB
    a millisecond): the queue backs up behind the writes, and only `flush_audit` waits for it.
    (On a local disk the file sink keeps up with one Python thread, so nothing waits there.)"""
    import json

    log = tmp_path / "audit.jsonl"
    with slow_log_shipper(log, pause=0.001) as received:
        secrets = audit_host(tmp_path, {"kind": "json_lines", "path": str(log)})
    text = received.decode()
    kinds = [json.loads(line)["kind"] for line in text.splitlines()]
    assert FLOW_KINDS <= set(kinds), kinds[-8:]
    assert (kinds.count("reset_requested"), kinds[-1]) == (REQUESTED, "reset_completed"), kinds[-8:]
    for secret in secrets:
        assert secret not in text, "a PIN or password reached the audit file"


def test_flush_audit_is_awaitable_on_the_asyncio_engine(tmp_path: Path) -> None:
    import json

    log = tmp_path / "audit.jsonl"
    b = sspr.backends.from_config({"audit": {"kind": "json_lines", "path": str(log)}})
    assert b.audit is not None
    engine = sspr.Sspr(seed_directory(), sspr.Outbox(), secret_key=KEY, audit=b.audit,
                       policy=sspr.Policy(min_response_ms=0))

    async def begin_and_flush() -> None:
        await engine.begin_reset("nobody@example.org")
        await engine.flush_audit()

    run(begin_and_flush())
    kinds = [json.loads(line)["kind"] for line in log.read_text().splitlines()]
    assert kinds == ["reset_requested"], kinds
    engine.blocking().flush_audit()  # nothing queued: returns at once
