"""The uniffi Python bindings: full flows with a directory, a contact store and a notifier
written in Python (async, awaited by the engine), and the error enum.

Run by scripts/test.d/60-ffi.sh with the generated module (sspr_ffi.py and the library
beside it) on PYTHONPATH. Prints "python: N passed, M failed"; exits 1 on any failure.
"""

import asyncio
import datetime
import json
import logging
import os
import re
import sys
import tempfile
import traceback

import sspr_ffi as s

START = datetime.datetime(2026, 1, 1, 10, 0, tzinfo=datetime.timezone.utc)
KEY = bytes([7] * 32)
ADMIN = s.Actor.ADMIN(id="helpdesk")
CTX = s.RequestContext(client_ip="192.0.2.7", user_agent="test_uniffi", locale=s.Locale.EN)

passed = 0
failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL", what)


class Directory(s.Directory):
    def __init__(self):
        self.users = {
            "jdoe@example.org": s.DirectoryUser(
                id="uid=jdoe,ou=staff,dc=example,dc=org", login="jdoe@example.org",
                display_name="Jane Doe", dn="uid=jdoe,ou=staff,dc=example,dc=org"),
            "root@example.org": s.DirectoryUser(
                id="uid=root,ou=admins,dc=example,dc=org", login="root@example.org",
                display_name="Root Admin", dn="uid=root,ou=admins,dc=example,dc=org",
                groups=["Domain Admins"]),
        }
        self.passwords = {}
        self.previous = {}  # the password before the last change (a history of one)
        self.down = False
        self.crash = False
        self.changes = True  # False: the directory offers no change (raises NotSupported)

    async def find_user(self, login):
        await asyncio.sleep(0)  # a real await: the engine waits on the event loop
        if self.crash:
            raise ValueError("a bug in the directory adapter")
        if self.down:
            raise s.BackendFailure.Unavailable("ldap unreachable")
        return self.users.get(login)

    async def set_password(self, user_id, password, must_change):
        if len(password) < 8:
            raise s.BackendFailure.PasswordRejected("too short")
        self.passwords[user_id] = (password, must_change)

    async def unlock(self, user_id):
        pass

    async def authenticate(self, user_id, password):
        stored = self.passwords.get(user_id)
        if stored is None or stored[0] != password:
            return s.Authentication.REJECTED
        return s.Authentication.MUST_CHANGE if stored[1] else s.Authentication.ACCEPTED

    async def search(self, query, limit):
        q = query.lower()
        found = [u for login, u in sorted(self.users.items())
                 if q in login or q in u.display_name.lower()]
        return found[:limit]

    async def change_password(self, user_id, current, new_password):
        await asyncio.sleep(0)
        if not self.changes:
            raise s.BackendFailure.NotSupported("this directory has no password change")
        stored = self.passwords.get(user_id)
        if stored is None or stored[0] != current:
            raise s.BackendFailure.PasswordRefused("wrong_current_password", "the current password is not right")
        if self.previous.get(user_id) == new_password:
            raise s.BackendFailure.PasswordRefused("in_history", "the directory remembers that password")
        self.previous[user_id] = current
        self.passwords[user_id] = (new_password, False)


class Contacts(s.ContactStore):
    def __init__(self):
        self.records = {}

    async def get(self, user_id):
        return self.records.get(user_id)

    async def save(self, user_id, enrollment, expected_version):
        current = self.records.get(user_id)
        if (current.version if current else 0) != expected_version:
            return False
        enrollment.version = expected_version + 1
        self.records[user_id] = enrollment
        return True


class Notifier(s.Notifier):
    def __init__(self):
        self.sent = []

    async def send(self, notification):
        await asyncio.sleep(0)
        self.sent.append(notification)

    async def last_pin(self):
        """The newest PIN, waiting (up to 2 s) for one not yet taken: deliveries run in the
        background, after send_pin has answered."""
        for _ in range(400):
            if len(self.pins()) > getattr(self, "taken", 0):
                break
            await asyncio.sleep(0.005)
        self.taken = len(self.pins())
        return self.pins()[-1]

    def pins(self):
        return [n.pin for n in self.sent if n.kind == s.MessageKind.PIN]


ENGINES = []


def new_engine(*args, **kwargs):
    """An engine main() drains before the interpreter exits: a delivery still running then
    would call into a finalizing Python from a runtime thread, which aborts the process."""
    engine = s.Engine(*args, **kwargs)
    ENGINES.append(engine)
    return engine


async def enroll_jdoe(engine):
    """An admin enables jdoe and registers jane.doe@example.net: the contacts' view."""
    await engine.set_enabled(ADMIN, "jdoe@example.org", True, CTX)
    jane = s.ContactUpdate(email=s.ContactChange.SET(value="jane.doe@example.net"), phone=s.ContactChange.KEEP())
    return await engine.update_contacts(ADMIN, "jdoe@example.org", jane, CTX)


async def world(policy='{"min_response_ms": 0}'):
    # A manual clock "sleeps" by moving forward: padding (on by default) would shift its times.
    directory, contacts, notifier = Directory(), Contacts(), Notifier()
    clock = s.ManualClock(START)
    engine = new_engine(s.EngineConfig(secret_key=KEY, policy_json=policy, rng_seed=bytes(32)),
                      directory, notifier, contacts, clock)
    view = await enroll_jdoe(engine)
    check(view.email.masked == "j***@e***.net", f"masked {view.email.masked}")
    check(view.email.usable_from == START, f"usable_from {view.email.usable_from}")
    return engine, directory, contacts, notifier, clock


async def expect(error_type, coro, what):
    try:
        await coro
    except error_type as e:
        check(True, what)
        return e
    except Exception as e:  # noqa: BLE001
        check(False, f"{what}: raised {type(e).__name__}: {e}")
        return None
    check(False, f"{what}: no error")
    return None


async def test_full_flow():
    engine, directory, contacts, notifier, clock = await world('{"allow_chosen_password": true, "min_response_ms": 0}')
    challenge = await engine.begin_reset("  JDoe@Example.org ", CTX)
    check(len(challenge.flow_id) == 32, "flow id")
    check([(m.id, m.channel, m.masked) for m in challenge.methods]
          == [("email", s.Channel.EMAIL, "j***@e***.net")], f"methods {challenge.methods}")
    check(challenge.expires_at == START + datetime.timedelta(seconds=900), "expires_at")
    sent = await engine.send_pin(challenge.flow_id, "email", None, CTX)
    check(sent.attempts_left == 5, "attempts_left")
    pin = (await notifier.last_pin())
    check(len(pin) == 8 and pin in notifier.sent[-1].body, "the PIN reached the Python notifier")
    check(notifier.sent[-1].to == "jane.doe@example.net", "to")

    wrong = ("1" if pin[0] != "1" else "2") + pin[1:]
    e = await expect(s.SsprError.WrongPin, engine.verify_pin(challenge.flow_id, wrong, CTX), "wrong PIN")
    check(e is not None and e.attempts_left == 4, "attempts_left 4")
    check(e is not None and wrong not in str(e), "the error does not hold the PIN")
    e = await expect(s.SsprError.InvalidInput, engine.verify_pin(challenge.flow_id, "12", CTX), "short PIN")
    check(e is not None and e.field == "pin", "field pin")

    verified = await engine.verify_pin(challenge.flow_id, pin, CTX)
    check(verified.modes == [s.CompletionMode.TEMPORARY, s.CompletionMode.CHOSEN, s.CompletionMode.UNLOCK_ONLY],
          f"modes {verified.modes}")
    outcome = await engine.complete_reset(challenge.flow_id, s.NewPassword.TEMPORARY(), CTX)
    check(outcome.must_change and len(outcome.temporary_password) == 16, "outcome")
    check(directory.passwords["uid=jdoe,ou=staff,dc=example,dc=org"] == (outcome.temporary_password, True),
          "the Python directory got the temporary password with must-change")
    await expect(s.SsprError.AlreadyUsed, engine.complete_reset(challenge.flow_id, s.NewPassword.TEMPORARY(), CTX),
                 "completed once only")
    record = contacts.records["uid=jdoe,ou=staff,dc=example,dc=org"]
    check(record.last_reset_at == START and record.version == 3, f"the Python store recorded it: {record}")

    signed = await engine.sign_in("jdoe@example.org", outcome.temporary_password, CTX)
    check(signed.must_change and signed.display_name == "Jane Doe", "sign in")
    await expect(s.SsprError.SignInFailed, engine.sign_in("jdoe@example.org", "Wrong-Pass-1", CTX), "wrong password")
    await expect(s.SsprError.SignInFailed, engine.sign_in("nobody@example.org", "Wrong-Pass-1", CTX), "unknown login")
    found = await engine.search_users("DOE", 10)
    check([u.login for u in found] == ["jdoe@example.org"] and found[0].enabled, "search")
    status = await engine.status("jdoe@example.org")
    check(status.last_reset_at == START and status.blocked_until is None, "status")
    check(engine.completion_modes()[0] == s.CompletionMode.TEMPORARY, "completion_modes")


async def test_expiry_decoy_and_errors():
    engine, directory, contacts, notifier, clock = await world()
    challenge = await engine.begin_reset("jdoe@example.org", CTX)
    await engine.send_pin(challenge.flow_id, "email", None, CTX)
    e = await expect(s.SsprError.RateLimited, engine.send_pin(challenge.flow_id, "email", None, CTX), "resend")
    check(e is not None and 0 < e.retry_after_secs <= 60, "retry_after")
    clock.advance(601)
    await expect(s.SsprError.Expired, engine.verify_pin(challenge.flow_id, (await notifier.last_pin()), CTX), "expired")

    count = len(notifier.sent)
    decoy = await engine.begin_reset("nobody@example.org", CTX)
    check(len(decoy.methods) == 1 and "***@" in decoy.methods[0].masked, "decoy shape")
    await engine.send_pin(decoy.flow_id, "email", None, CTX)
    check(len(notifier.sent) == count, "a decoy sends nothing")

    e = await expect(s.SsprError.InvalidInput, engine.begin_reset("jdoe\x01@example.org", CTX), "control char")
    check(e is not None and e.field == "login", "field login")
    bad_ip = s.RequestContext(client_ip="999.1.1.1", locale=s.Locale.EN)
    e = await expect(s.SsprError.InvalidInput, engine.begin_reset("jdoe@example.org", bad_ip), "bad IP")
    check(e is not None and e.field == "client_ip", "field client_ip")
    e = await expect(s.SsprError.NotAllowed, engine.unblock(s.Actor.USER(), "jdoe@example.org", CTX), "user unblock")
    check(e is not None and e.reason == s.NotAllowedReason.ADMIN_ONLY, "admin only")
    e = await expect(s.SsprError.NotAllowed, engine.set_enabled(ADMIN, "root@example.org", True, CTX), "privileged")
    check(e is not None and e.reason == s.NotAllowedReason.PRIVILEGED, "privileged reason")
    await expect(s.SsprError.UnknownUser, engine.status("nobody@example.org"), "unknown user")

    directory.down = True
    e = await expect(s.SsprError.Backend, engine.begin_reset("jdoe@example.org", CTX), "directory down")
    check(e is not None and e.kind == s.BackendErrorKind.UNAVAILABLE and "ldap unreachable" in e.detail, "kind")
    directory.down, directory.crash = False, True
    e = await expect(s.SsprError.Backend, engine.begin_reset("jdoe@example.org", CTX), "directory bug")
    check(e is not None and e.kind == s.BackendErrorKind.OTHER, f"unexpected exception is OTHER: {e}")

    e = await expect(s.SsprError.Config, build_engine('{"pin_length": 4}', KEY), "bad policy")
    check(e is not None and "pin_length" in e.detail, "names the field")
    await expect(s.SsprError.Config, build_engine(None, b"short"), "short key")

    # A store's bad TLS file is Config naming its setting; port 1, where nothing listens, so
    # only a check made before connecting can say so.
    with tempfile.TemporaryDirectory() as tmp:
        junk = os.path.join(tmp, "junk.pem")
        with open(junk, "w") as f:
            f.write("not a PEM file\n")
        for kind, settings, setting in [
            ("postgres", {"url": "postgres://sspr:s3cret@127.0.0.1:1/sspr", "ca_file": junk}, "ca_file"),
            ("postgres", {"url": f"postgres://sspr:s3cret@127.0.0.1:1/sspr?sslmode=verify-ca&sslrootcert={junk}"},
             "sslrootcert"),
            ("redis", {"url": "rediss://:s3cret@127.0.0.1:1/", "ca_file": junk}, "ca_file"),
        ]:
            store = s.StateStoreConfig.JSON(config=json.dumps({kind: settings}))
            e = await expect(s.SsprError.Config, build_engine_with(store), f"bad {kind} {setting}")
            check(e is not None and setting in e.detail and "s3cret" not in e.detail, f"{setting}: {e}")


async def build_engine(policy, key):
    new_engine(s.EngineConfig(secret_key=key, policy_json=policy), Directory(), Notifier())


async def build_engine_with(state_store):
    new_engine(s.EngineConfig(secret_key=KEY, state_store=state_store), Directory(), Notifier())


async def test_blocked_and_concurrency():
    engine, directory, contacts, notifier, clock = await world()
    challenge = await engine.begin_reset("jdoe@example.org", CTX)
    await engine.send_pin(challenge.flow_id, "email", None, CTX)
    pin = (await notifier.last_pin())
    wrong = pin[:7] + ("0" if pin[7] != "0" else "1")
    for left in (4, 3, 2, 1):
        e = await expect(s.SsprError.WrongPin, engine.verify_pin(challenge.flow_id, wrong, CTX), "wrong")
        check(e is not None and e.attempts_left == left, f"left {left}")
    e = await expect(s.SsprError.Blocked, engine.verify_pin(challenge.flow_id, wrong, CTX), "blocked")
    check(e is not None and e.until == START + datetime.timedelta(days=1), "blocked until")
    await engine.unblock(ADMIN, "jdoe@example.org", CTX)
    # Many calls in flight at once, each awaiting the Python backends.
    challenges = await asyncio.gather(*(engine.begin_reset(f"user{i}@example.org", CTX) for i in range(20)),
                                      engine.begin_reset("jdoe@example.org", CTX))
    check(len({c.flow_id for c in challenges}) == 21, "21 concurrent flows")


class Audit(s.AuditSink):
    def __init__(self):
        self.events = []

    def record(self, event_json):
        self.events.append(json.loads(event_json))


async def test_shared_store_and_audit():
    """Two engines (two processes) on one shared state store meet one block, on each store
    uniffi offers: a SQLite file, Redis and PostgreSQL (the servers scripts/test.sh starts);
    the Python audit sink and the JSON-lines file get every event."""
    with tempfile.TemporaryDirectory() as tmp:
        await shared_store_meets_one_block(s.StateStoreConfig.SQLITE(path=os.path.join(tmp, "state.db")), tmp)
        await shared_store_meets_one_block(s.StateStoreConfig.REDIS(url=os.environ["SSPR_TEST_REDIS_URL"]), tmp)
        await shared_store_meets_one_block(s.StateStoreConfig.POSTGRES(url=os.environ["SSPR_TEST_POSTGRES_URL"]), tmp)


async def shared_store_meets_one_block(store, tmp):
    # A key of this run only: the store keys are keyed hashes, so a server's state from an
    # earlier run (a block on jdoe) is not this run's.
    key = os.urandom(32)
    log = os.path.join(tmp, f"audit-{type(store).__name__}.jsonl")
    # Today, not START: Redis used to expire keys by its own clock (EXPIREAT), so a flow
    # written at a date long past was gone at once (TTLs are relative now: THREAT_MODEL R.11).
    audit, clock = Audit(), s.ManualClock(datetime.datetime.now(datetime.timezone.utc))
    engines = []
    for _ in range(2):
        directory, notifier = Directory(), Notifier()
        config = s.EngineConfig(secret_key=key, state_store=store, audit_file=log,
                                policy_json='{"user_failures_before_block": 5, "failures_before_delay": 5, '
                                            '"min_response_ms": 0}')
        engine = new_engine(config, directory, notifier, Contacts(), clock, audit)
        await enroll_jdoe(engine)
        engines.append((engine, notifier))
    (a, notifier_a), (b, notifier_b) = engines
    flow = (await a.begin_reset("jdoe@example.org", CTX)).flow_id
    await a.send_pin(flow, "email", None, CTX)
    while not any(n.kind == s.MessageKind.PIN for n in notifier_a.sent):
        await asyncio.sleep(0.005)
    pin = (await notifier_a.last_pin())
    wrong = pin[:7] + ("0" if pin[7] != "0" else "1")
    for _ in range(4):
        await expect(s.SsprError.WrongPin, a.verify_pin(flow, wrong, CTX), "wrong on A")
    # The 5th failure overall: a wrong PIN through B, on A's flow (the flow is shared too).
    where = type(store).__name__
    await expect(s.SsprError.Blocked, b.verify_pin(flow, wrong, CTX), f"blocked through B ({where})")
    await expect(s.SsprError.Blocked, b.begin_reset("jdoe@example.org", CTX), f"B sees the block ({where})")
    kinds = [e["kind"] for e in audit.events]
    check({"reset_requested", "pin_sent", "pin_failed", "blocked"} <= set(kinds), f"audit kinds {kinds}")
    with open(log) as f:
        lines = [json.loads(line) for line in f]
    check(lines == audit.events, f"the file holds the same {len(audit.events)} events ({len(lines)} lines)")


async def test_flush_waits_for_a_slow_notifier():
    """send_pin answers before a slow notifier has run; flush_deliveries returns only after
    the PIN was handed over, so a host can drain deliveries before it stops."""
    engine, directory, contacts, notifier, clock = await world()

    class SlowNotifier(Notifier):
        async def send(self, notification):
            await asyncio.sleep(0.3)
            self.sent.append(notification)

    slow = SlowNotifier()
    engine = new_engine(s.EngineConfig(secret_key=KEY, policy_json='{"min_response_ms": 0}', rng_seed=bytes(32)),
                      directory, slow, contacts, clock)
    challenge = await engine.begin_reset("jdoe@example.org", CTX)
    await engine.send_pin(challenge.flow_id, "email", None, CTX)
    check(slow.pins() == [], "send_pin answered before the slow notifier finished")
    await engine.flush_deliveries()
    check(len(slow.pins()) == 1, "flush_deliveries waited for the PIN to be handed over")


async def test_flush_audit_and_metrics_text():
    """flush_audit waits for the audit sinks (at shutdown, after flush_deliveries): the
    JSON-lines file then holds every event the Python sink got. With metrics=True the engine
    counts into the process's Prometheus registry, which metrics_text() renders (as the Python
    and Node bindings' own metrics_text), with no login in it."""
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "audit.jsonl")
        audit = Audit()
        config = s.EngineConfig(secret_key=KEY, policy_json='{"min_response_ms": 0}', audit_file=log, metrics=True)
        engine = new_engine(config, Directory(), Notifier(), None, None, audit)
        await engine.begin_reset("nobody@example.org", CTX)
        await engine.flush_deliveries()
        await engine.flush_audit()
        with open(log) as f:
            lines = [json.loads(line) for line in f]
        kinds = [e["kind"] for e in lines]
        check(lines == audit.events and "reset_requested" in kinds, f"flushed file: {kinds}")
        text = engine.metrics_text()
        check('sspr_begins_total{' in text and 'result="decoy"' in text, f"the decoy begin is counted:\n{text}")
        check("sspr_engine_call_seconds" in text, "engine calls are timed")
        check("nobody" not in text and "example.org" not in text, "no login in the metrics")


# tests/parity/cases.json, replayed through this API, every kind: where sspr-py and sspr-node
# take or give a name, uniffi has an enum, read and given by the exported name functions
# (parse_channel / name_of_channel..., the core's rules); a completion is made from a mode by
# new_password_from_mode, and an error's code is the name of its own class
# (SsprError.WrongPin is "wrong_pin"), as in tests/kotlin/src/Parity.kt.
PARITY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests", "parity", "cases.json")


def snake(name):
    """``WrongPin`` as ``wrong_pin``."""
    return re.sub(r"(?<=.)([A-Z])", r"_\1", name).lower()


async def test_parity():
    with open(PARITY) as f:
        data = json.load(f)
    key = bytes.fromhex(data["engine"]["secret_key_hex"])
    at = datetime.datetime.fromisoformat(data["engine"]["clock"].replace("Z", "+00:00"))

    async def enrolled(notifier=None, audit=None):
        engine = new_engine(s.EngineConfig(secret_key=key, policy_json='{"min_response_ms": 0}'), Directory(),
                          notifier or Notifier(), Contacts(), s.ManualClock(at), audit)
        await enroll_jdoe(engine)
        return engine

    async def client_ip(ip):
        audit = Audit()
        engine = await enrolled(audit=audit)
        audit.events.clear()
        await engine.begin_reset("jdoe@example.org", s.RequestContext(client_ip=ip))
        return [e for e in audit.events if e["kind"] == "reset_requested"][0]["client_ip"]

    async def accept_language(header):
        notifier = Notifier()
        engine = await enrolled(notifier)
        ctx = s.RequestContext(accept_language=header)
        flow = (await engine.begin_reset("jdoe@example.org", ctx)).flow_id
        await engine.send_pin(flow, "email", None, ctx)
        await engine.flush_deliveries()
        return [n for n in notifier.sent if n.kind == s.MessageKind.PIN][-1].locale.name.lower()

    async def actor(i):
        engine = await enrolled()
        who = s.Actor.ADMIN(id=i["admin"]) if "admin" in i else s.Actor.USER()
        await engine.update_contacts(who, "jdoe@example.org",
                                     s.ContactUpdate(email=s.ContactChange.KEEP(), phone=s.ContactChange.KEEP()), CTX)
        return {"type": "admin", "id": i["admin"]} if "admin" in i else {"type": "user"}

    async def policy(i):
        text = {"policy_json": i["text"]} if i["format"] == "json" else {"policy_toml": i["text"]}
        engine = new_engine(s.EngineConfig(secret_key=key, **text), Directory(), Notifier())
        return json.loads(engine.policy_json())

    async def enrollment(i):
        def contact(c):
            if c is None:
                return None
            t = lambda v: datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))  # noqa: E731
            return s.StoredContact(value=c["value"], added_at=t(c["added_at"]), usable_from=t(c["usable_from"]))

        store = Contacts()
        store.records["uid=jdoe,ou=staff,dc=example,dc=org"] = s.Enrollment(
            enabled=i["enabled"], email=contact(i.get("email")), phone=contact(i.get("phone")),
            last_reset_at=None, history=i.get("history"), version=i["version"])
        engine = new_engine(s.EngineConfig(secret_key=key), Directory(), Notifier(), store, s.ManualClock(at))
        found = await engine.contacts("jdoe@example.org")
        return {"email": found.email and found.email.value, "phone": found.phone and found.phone.value}

    def material(i, field):
        if "bytes" in i:
            return {field: bytes.fromhex(i["bytes"])}
        return {field + "_hex": i["hex"], **({"secret_key": b""} if field == "secret_key" else {})}

    async def secret_key(i):
        new_engine(s.EngineConfig(**material(i, "secret_key")), Directory(), Notifier())
        return "ok"

    async def rng_seed(i):
        engine = new_engine(s.EngineConfig(secret_key=key, **material(i, "rng_seed")), Directory(), Notifier(), None,
                          s.ManualClock(at))
        return {"first_flow_id": (await engine.begin_reset(data["engine"]["login"], s.RequestContext())).flow_id}

    async def request_context(i):
        locale = s.parse_locale(i["locale"]) if "locale" in i else None
        ctx = s.RequestContext(client_ip=i.get("client_ip"), locale=locale, accept_language=i.get("accept_language"))
        notifier, audit = Notifier(), Audit()
        engine = await enrolled(notifier, audit)
        audit.events.clear()
        flow = (await engine.begin_reset("jdoe@example.org", ctx)).flow_id
        await engine.send_pin(flow, "email", None, ctx)
        await engine.flush_deliveries()
        begun = [e for e in audit.events if e["kind"] == "reset_requested"][0]
        notice = [n for n in notifier.sent if n.kind == s.MessageKind.PIN][-1]
        return {"client_ip": begun.get("client_ip"), "locale": s.name_of_locale(notice.locale)}

    async def new_password(i):
        mode = s.parse_completion_mode(i["mode"])
        made = s.new_password_from_mode(mode, i.get("password"))
        check(isinstance(made, s.NewPassword.CHOSEN) == (mode == s.CompletionMode.CHOSEN), f"new_password {made}")
        return s.name_of_completion_mode(mode)

    async def error_code(variant):
        cls = getattr(s.SsprError, variant)
        check(issubclass(cls, s.SsprError), f"error_code: {cls} is an SsprError")
        return snake(cls.__name__)

    def named(parse, name_of):
        async def replay_name(text):
            return name_of(parse(text))
        return replay_name

    replay = {"secret_key": secret_key, "rng_seed": rng_seed, "client_ip": client_ip,
              "accept_language": accept_language, "actor": actor, "policy": policy, "enrollment": enrollment,
              "request_context": request_context, "new_password": new_password, "error_code": error_code,
              "locale": named(s.parse_locale, s.name_of_locale),
              "completion_mode": named(s.parse_completion_mode, s.name_of_completion_mode),
              "channel": named(s.parse_channel, s.name_of_channel),
              "not_allowed_reason": named(s.parse_not_allowed_reason, s.name_of_not_allowed_reason),
              "backend_error_kind": named(s.parse_backend_error_kind, s.name_of_backend_error_kind),
              "authentication": named(s.parse_authentication, s.name_of_authentication)}
    unknown = {c["kind"] for c in data["cases"]} - set(replay)
    check(not unknown, f"parity kinds with no replay: {unknown}")
    for case in (c for c in data["cases"] if c["kind"] in replay):
        what, expect_ = f"parity {case['id']}", case["expect"]
        try:
            got, error = await replay[case["kind"]](case["input"]), None
        except s.SsprError as e:
            got, error = None, e
        if "error" not in expect_:
            want = expect_["value"]
            ok = error is None and (all(got.get(k) == v for k, v in want.items()) if isinstance(want, dict)
                                    else got == want)
            check(ok, f"{what}: want {want}, got {error or got}")
            continue
        ok = error is not None and snake(type(error).__name__) == expect_["error"]
        if ok and "field" in expect_:
            ok = error.field == expect_["field"]
        if ok and "backend_kind" in expect_:
            ok = error.kind.name.lower() == expect_["backend_kind"] and \
                f"invalid enrollment: {expect_['part']}:" in error.detail
        check(ok, f"{what}: want {expect_}, got {type(error).__name__ if error else got}: {error}")


async def test_change_password_and_rules():
    """The engine call reaches the foreign directory's change_password end to end: one answer
    for a wrong password and an unknown login, the policy's refusal and the directory's own by
    name (nothing changed), a temporary password changed (the new one signs in, the old one
    does not, the user is told), and a directory that raises NotSupported: NOT_SUPPORTED."""
    engine, directory, contacts, notifier, clock = await world()
    jane = "uid=jdoe,ou=staff,dc=example,dc=org"
    directory.passwords[jane] = ("Temp-Passw0rd-1", True)
    directory.previous[jane] = "Older-Harbour-Lamp-8"
    for login, current in (("jdoe@example.org", "Wrong-Passw0rd-1"), ("nobody@example.org", "Temp-Passw0rd-1")):
        await expect(s.SsprError.SignInFailed,
                     engine.change_password(login, current, "Fresh-Meadow-41", CTX), f"change as {login}")
    e = await expect(s.SsprError.PasswordRejected,
                     engine.change_password("jdoe@example.org", "Temp-Passw0rd-1", "Sh0rt!", CTX), "too short")
    check(e is not None and e.refusal == "too_short" and "Sh0rt" not in str(e), f"refusal: {e}")
    e = await expect(s.SsprError.PasswordRejected,
                     engine.change_password("jdoe@example.org", "Temp-Passw0rd-1", "Older-Harbour-Lamp-8", CTX),
                     "the directory's own rule")
    check(e is not None and e.refusal == "in_history" and "remembers" in e.reason and "Older-Harbour" not in str(e),
          f"directory refusal: {e}")
    check(directory.passwords[jane] == ("Temp-Passw0rd-1", True), "nothing changed")
    await engine.change_password("jdoe@example.org", "Temp-Passw0rd-1", "Fresh-Meadow-41", CTX)
    check(directory.passwords[jane] == ("Fresh-Meadow-41", False), f"changed: {directory.passwords[jane]}")
    signed = await engine.sign_in_self_service("jdoe@example.org", "Fresh-Meadow-41", CTX)
    check(signed.login == "jdoe@example.org" and not signed.must_change, f"the new password signs in: {signed}")
    await expect(s.SsprError.SignInFailed, engine.sign_in_self_service("jdoe@example.org", "Temp-Passw0rd-1", CTX),
                 "the old one does not")
    await engine.flush_deliveries()
    told = [n for n in notifier.sent if n.kind == s.MessageKind.PASSWORD_CHANGED]
    check(len(told) == 1 and told[0].to == "jane.doe@example.net", f"the user is told: {told}")
    # The directory disagrees about the current password (changed since the check): a failed sign-in.
    directory.passwords[jane] = ("Fresh-Meadow-41", False)
    real = directory.change_password

    async def disagrees(user_id, current, new_password):
        raise s.BackendFailure.PasswordRefused("wrong_current_password", "not right")
    directory.change_password = disagrees
    await expect(s.SsprError.SignInFailed,
                 engine.change_password("jdoe@example.org", "Fresh-Meadow-41", "Second-Harbour-52", CTX),
                 "the directory's wrong current password")

    async def misnamed(user_id, current, new_password):
        raise s.BackendFailure.PasswordRefused("too_weird", "a rule with no name")
    directory.change_password = misnamed
    e = await expect(s.SsprError.Backend,
                     engine.change_password("jdoe@example.org", "Fresh-Meadow-41", "Second-Harbour-52", CTX),
                     "a refusal naming no rule")
    check(e is not None and e.kind == s.BackendErrorKind.REJECTED and "too_weird" in e.detail, f"misnamed: {e}")
    directory.change_password = real
    directory.changes = False
    e = await expect(s.SsprError.Backend,
                     engine.change_password("jdoe@example.org", "Fresh-Meadow-41", "Second-Harbour-52", CTX),
                     "no change")
    check(e is not None and e.kind == s.BackendErrorKind.NOT_SUPPORTED, f"not supported: {e}")
    check(directory.passwords[jane] == ("Fresh-Meadow-41", False), "nothing changed")
    rules = await engine.password_rules()
    check((rules.min_length, rules.history_length, rules.complexity, rules.min_age_secs) == (8, None, None, None),
          f"rules: {rules}")
    # A foreign directory keeps the default visibility check: the start-up check passes (the
    # failing case, an OpenLDAP group whose members the service account cannot see, is in the
    # Python and Node suites, which have the LDAP backend).
    check(await engine.check_privileged_groups() is None, "the privileged groups are visible")


class NoSeasons(s.PasswordChecker):
    """A host's own check: refuses season names; remembers whom it was asked about."""
    def __init__(self):
        self.asked = []

    async def check(self, password, login, display_name):
        self.asked.append((login, display_name))
        return "no seasons, please" if "spring" in password.lower() else None


async def test_configured_password_checks():
    """The configured password checks reach uniffi (password_checks_json, the other bindings'
    [password_checks]), then the host's own (password_checkers): a banned word refuses a
    chosen password as banned, the host's check with its reason, nothing changes and no error
    holds the password; an unknown check makes no engine and names the option."""
    with tempfile.TemporaryDirectory() as tmp:
        banned = os.path.join(tmp, "banned.txt")
        with open(banned, "w") as f:
            f.write("# the organisation's own words\nmeadow\n")
        directory, notifier, clock = Directory(), Notifier(), s.ManualClock(START)
        config = s.EngineConfig(secret_key=KEY, policy_json='{"min_response_ms": 0}',
                                password_checks_json=json.dumps({"banned_words_file": banned}))
        seasons = NoSeasons()
        engine = new_engine(config, directory, notifier, Contacts(), clock, None, [seasons])
        directory.passwords["uid=jdoe,ou=staff,dc=example,dc=org"] = ("Old-Passw0rd-1", False)
        e = await expect(s.SsprError.PasswordRejected,
                         engine.change_password("jdoe@example.org", "Old-Passw0rd-1", "Fresh-Meadow-41", CTX),
                         "banned word")
        check(e is not None and e.refusal == "banned" and "Fresh-Meadow" not in str(e), f"refusal: {e}")
        check(seasons.asked == [], "the configured check refused first: the host's was not asked")
        e = await expect(s.SsprError.PasswordRejected,
                         engine.change_password("jdoe@example.org", "Old-Passw0rd-1", "Spring-Harvest-77", CTX),
                         "the host's check")
        check(e is not None and e.refusal == "unspecified" and "no seasons" in e.reason
              and "Spring-Harvest" not in str(e), f"host refusal: {e}")
        check(seasons.asked == [("jdoe@example.org", "Jane Doe")], f"asked: {seasons.asked}")
        check(directory.passwords["uid=jdoe,ou=staff,dc=example,dc=org"][0] == "Old-Passw0rd-1", "nothing changed")
    try:
        new_engine(s.EngineConfig(secret_key=KEY, password_checks_json='{"banned_words": "meadow"}'),
                   Directory(), Notifier())
        check(False, "an unknown check made an engine")
    except s.SsprError.InvalidInput as e:
        check(e.field == "password_checks", f"field: {e.field}")


class SiteVerify:
    """A local stand-in of a bot challenge provider's siteverify (the real ones cannot be reached from the
    test machines): GOOD passes for reset.example.org, any other token is refused; `down` answers 503."""

    GOOD = "stand-in-good-token-u1"

    def __init__(self):
        import http.server
        import threading
        import urllib.parse

        self.forms, self.down = [], False
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                form = dict(urllib.parse.parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
                outer.forms.append(form)
                ok = form.get("response") == SiteVerify.GOOD
                body = json.dumps({"success": ok, "hostname": "reset.example.org",
                                   "error-codes": [] if ok else ["invalid-input-response"]}).encode()
                self.send_response(503 if outer.down else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/siteverify"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


async def test_bot_challenge():
    """The built-in bot challenge verifier configured from uniffi (bot_challenge_json, the other bindings'
    [bot_challenge]) and the widget's token passed to begin_reset(challenge_token=...): missing, forged and
    uncheckable are Challenge alike for every login and begin nothing; a solved one passes; the token and the
    secret are never in an error."""
    stand = SiteVerify()
    try:
        challenge = {"provider": "turnstile", "site_key": "0x4AAA-site", "secret": "0x4AAA-s3cret",
                     "verify_url": stand.url, "hostnames": ["reset.example.org"]}
        config = s.EngineConfig(secret_key=KEY, policy_json='{"min_response_ms": 0}',
                                bot_challenge_json=json.dumps(challenge))
        notifier, contacts = Notifier(), Contacts()
        engine = new_engine(config, Directory(), notifier, contacts, s.ManualClock(START))
        await enroll_jdoe(engine)
        e = await expect(s.SsprError.Challenge, engine.begin_reset("jdoe@example.org", CTX), "no token")
        check(e is not None and e.reason == "required", f"no token: {e}")
        for login in ("jdoe@example.org", "nobody@example.org"):
            e = await expect(s.SsprError.Challenge, engine.begin_reset(login, CTX, "forged-token"), "forged")
            check(e is not None and e.reason == "failed" and "forged-token" not in str(e), f"forged ({login}): {e}")
        e = await expect(s.SsprError.InvalidInput, engine.begin_reset("jdoe@example.org", CTX, "a b"), "spaced")
        check(e is not None and e.field == "challenge_token", f"spaced: {e}")
        check(notifier.sent == [], "nothing was sent")
        begun = await engine.begin_reset("jdoe@example.org", CTX, challenge_token=SiteVerify.GOOD)
        check([m.id for m in begun.methods] == ["email"], f"methods: {begun.methods}")
        check(stand.forms[-1] == {"secret": "0x4AAA-s3cret", "response": SiteVerify.GOOD, "remoteip": "192.0.2.7"},
              f"siteverify got {stand.forms[-1]}")
        stand.down = True
        e = await expect(s.SsprError.Challenge,
                         engine.begin_reset("jdoe@example.org", CTX, challenge_token=SiteVerify.GOOD), "down")
        check(e is not None and e.reason == "unavailable", f"down: {e}")
    finally:
        stand.server.shutdown()
    for bad in ('{"provider": "turnstile", "secret": "0xS3CR3T", "timeout_ms": "0xS3CR3T"}', "{not json 0xS3CR3T"):
        try:
            new_engine(s.EngineConfig(secret_key=KEY, bot_challenge_json=bad), Directory(), Notifier())
            check(False, "a bad bot challenge made an engine")
        except s.SsprError.InvalidInput as e:
            check(e.field == "bot_challenge" and "S3CR3T" not in str(e), f"bad bot challenge: {e}")


async def test_contact_proof():
    """A user's new address is saved only with the code sent to it, which uniffi notifiers
    see as CONTACT_PROOF (not a reset PIN); the code works once."""
    engine, directory, contacts, notifier, clock = await world()
    new = s.ContactUpdate(email=s.ContactChange.SET(value="jane@new.example"), phone=s.ContactChange.KEEP())
    e = await expect(s.SsprError.NotAllowed, engine.update_contacts(s.Actor.USER(), "jdoe@example.org", new, CTX),
                     "a new contact without its code")
    check(e is not None and e.reason == s.NotAllowedReason.CONTACT_UNPROVEN, f"reason: {e}")
    proof = await engine.request_contact_proof(s.Actor.USER(), "jdoe@example.org", s.Channel.EMAIL,
                                               "jane@new.example", CTX)
    check(proof.masked == "j***@n***.example" and proof.channel == s.Channel.EMAIL, f"proof: {proof}")
    await engine.flush_deliveries()
    sent = [n for n in notifier.sent if n.to == "jane@new.example"]
    check([n.kind for n in sent] == [s.MessageKind.CONTACT_PROOF], f"kinds: {[n.kind for n in sent]}")
    code = sent[-1].pin
    view = await engine.confirm_contact_proof(s.Actor.USER(), "jdoe@example.org", proof.proof_id, code, CTX)
    check(view.email.value == "jane@new.example", f"saved: {view.email}")
    await expect(s.SsprError.AlreadyUsed,
                 engine.confirm_contact_proof(s.Actor.USER(), "jdoe@example.org", proof.proof_id, code, CTX),
                 "the code works once")


async def test_admin_contacts_is_audited():
    """An administrator's read of a user's contacts (THREAT_MODEL R.31): in full, and audited
    contacts_viewed with the administrator as actor and the contacts masked; a user is refused."""
    directory, contacts, notifier, audit = Directory(), Contacts(), Notifier(), Audit()
    engine = new_engine(s.EngineConfig(secret_key=KEY, policy_json='{"min_response_ms": 0}'),
                        directory, notifier, contacts, s.ManualClock(START), audit)
    await enroll_jdoe(engine)
    read = await engine.admin_contacts(ADMIN, "jdoe@example.org", CTX)
    check(read.email.value == "jane.doe@example.net", f"in full: {read.email}")
    viewed = [e for e in audit.events if e["kind"] == "contacts_viewed"]
    check(len(viewed) == 1, f"one contacts_viewed: {[e['kind'] for e in audit.events]}")
    if viewed:
        e = viewed[0]
        check(e["actor"] == {"type": "admin", "id": "helpdesk"} and e["user_id"] == "uid=jdoe,ou=staff,dc=example,dc=org",
              f"who read whose: {e}")
        check(e["destination"] == "j***@e***.net" and e["client_ip"] == "192.0.2.7", f"masked, from where: {e}")
    check("jane.doe@example.net" not in json.dumps(audit.events), "never the full address")
    await expect(s.SsprError.NotAllowed, engine.admin_contacts(s.Actor.USER(), "jdoe@example.org", CTX),
                 "a user may not read contacts as an admin")


async def test_registration_coverage():
    """The enrollment report, reminders to the directory mailbox (once per interval) and the
    re-confirmation of contacts; the Python contact store here cannot list (the engine reads
    users one by one)."""
    policy = ('{"min_response_ms": 0, "reconfirm_after_days": 30, '
              '"registration_url": "https://sspr.example.org/passwordnotification"}')
    engine, directory, contacts, notifier, clock = await world(policy)
    directory.users["max@example.org"] = s.DirectoryUser(
        id="uid=max,ou=staff,dc=example,dc=org", login="max@example.org", display_name="Max M",
        dn="uid=max,ou=staff,dc=example,dc=org", mail="max@example.org")
    await engine.set_enabled(ADMIN, "max@example.org", True, CTX)
    everyone = s.EnrollmentFilter()
    report = await engine.enrollment_report(ADMIN, everyone, CTX)
    c = report.counts
    check((c.users, c.registered, c.without_contacts, c.privileged) == (3, 1, 1, 1), f"counts: {c}")
    max_entry = [u for u in report.users if u.login == "max@example.org"][0]
    check(max_entry.without_contacts and max_entry.has_directory_mail, f"max: {max_entry}")
    e = await expect(s.SsprError.NotAllowed, engine.enrollment_report(s.Actor.USER(), everyone, CTX), "users may not")
    check(e is not None and e.reason == s.NotAllowedReason.ADMIN_ONLY, f"reason: {e}")
    e = await expect(s.SsprError.InvalidInput,
                     engine.enrollment_report(ADMIN, s.EnrollmentFilter(stale_after_days=0), CTX), "stale 0")
    check(e is not None and e.field == "stale_after_days", f"field: {e}")

    run = await engine.send_registration_reminders(ADMIN, everyone, CTX)
    check(run.reminded == ["max@example.org"], f"reminded: {run}")
    await engine.flush_deliveries()
    sent = [n for n in notifier.sent if n.to == "max@example.org"]
    check([n.kind for n in sent] == [s.MessageKind.REGISTRATION_REMINDER], f"kinds: {[n.kind for n in sent]}")
    again = await engine.send_registration_reminders(ADMIN, everyone, CTX)
    check(again.reminded == [] and again.already_reminded == 1, f"again: {again}")

    check(not (await engine.contacts("jdoe@example.org")).confirm_due, "not due yet")
    clock.advance(30 * 86400)
    check((await engine.contacts("jdoe@example.org")).confirm_due, "due after 30 days")
    view = await engine.confirm_contacts(s.Actor.USER(), "jdoe@example.org", CTX)
    check(not view.confirm_due, "confirmed")

    # A host directory's mail that is not an address: a rejected backend error, nothing else.
    directory.users["bad@example.org"] = s.DirectoryUser(
        id="uid=bad,ou=staff,dc=example,dc=org", login="bad@example.org", display_name="Bad",
        dn="uid=bad,ou=staff,dc=example,dc=org", mail="not an address")
    e = await expect(s.SsprError.Backend, engine.status("bad@example.org"), "a bad mail")
    check(e is not None and e.kind == s.BackendErrorKind.REJECTED, f"kind: {e}")


async def test_helpdesk_recovery():
    """A recovery code shown to the administrator (redacted in repr), or sent to the user's
    contact (seen as RECOVERY_CODE); the user redeems it to the verified step once; every
    refusal is WrongPin with no attempts left."""
    engine, directory, contacts, notifier, clock = await world()
    e = await expect(s.SsprError.NotAllowed, engine.admin_recovery(s.Actor.USER(), "jdoe@example.org", CTX),
                     "only an administrator issues codes")
    check(e is not None and e.reason == s.NotAllowedReason.ADMIN_ONLY, f"reason: {e}")
    issued = await engine.admin_recovery(ADMIN, "jdoe@example.org", CTX)
    code = issued.code
    check(len(code) == 10 and code.isdigit(), "ten digits")
    e = await expect(s.SsprError.InvalidInput, engine.redeem_recovery_code("jdoe@example.org", "12", CTX), "malformed")
    check(e is not None and e.field == "code", f"field: {e}")
    wrong = "".join("0" if c == "9" else str(int(c) + 1) for c in code)
    e = await expect(s.SsprError.WrongPin, engine.redeem_recovery_code("jdoe@example.org", wrong, CTX), "wrong")
    check(e is not None and e.attempts_left == 0 and code not in str(e), f"wrong: {e}")
    await expect(s.SsprError.WrongPin, engine.redeem_recovery_code("nobody@example.org", code, CTX), "stranger")
    recovered = await engine.redeem_recovery_code("jdoe@example.org", code, CTX)
    check(recovered.modes[0] == s.CompletionMode.TEMPORARY, f"modes: {recovered.modes}")
    outcome = await engine.complete_reset(recovered.flow_id, s.NewPassword.TEMPORARY(), CTX)
    check(outcome.temporary_password is not None, "the reset completes")
    await expect(s.SsprError.WrongPin, engine.redeem_recovery_code("jdoe@example.org", code, CTX), "once")

    e = await expect(s.SsprError.InvalidInput,
                     engine.admin_send_recovery_code(ADMIN, "jdoe@example.org", s.Channel.SMS, CTX), "no phone")
    check(e is not None and e.field == "channel", f"field: {e}")
    sent = await engine.admin_send_recovery_code(ADMIN, "jdoe@example.org", s.Channel.EMAIL, CTX)
    check(sent.masked == "j***@e***.net" and sent.channel == s.Channel.EMAIL, f"sent: {sent}")
    await engine.flush_deliveries()
    mailed = [n for n in notifier.sent if n.to == "jane.doe@example.net" and n.kind == s.MessageKind.RECOVERY_CODE]
    check(len(mailed) == 1 and mailed[0].pin is not None and len(mailed[0].pin) == 10, f"mailed: {len(mailed)}")
    recovered = await engine.redeem_recovery_code("jdoe@example.org", mailed[0].pin, CTX)
    await engine.complete_reset(recovered.flow_id, s.NewPassword.TEMPORARY(), CTX)


async def test_printed_values_hide_secrets():
    """Printed, no value shows the secret it holds (uniffi's records and enums print every
    field by default: a flow id or a PIN in a log line or an exception's message): not str,
    repr, an f-string, %-formatting, a list, an exception or a log record; the field still
    holds it."""
    engine, directory, contacts, notifier, clock = await world()
    challenge = await engine.begin_reset("jdoe@example.org", CTX)
    await engine.send_pin(challenge.flow_id, "email", None, CTX)
    pin = await notifier.last_pin()
    notice = [n for n in notifier.sent if n.kind == s.MessageKind.PIN][-1]
    await engine.verify_pin(challenge.flow_id, pin, CTX)
    outcome = await engine.complete_reset(challenge.flow_id, s.NewPassword.TEMPORARY(), CTX)
    issued = await engine.admin_recovery(ADMIN, "jdoe@example.org", CTX)
    recovered = await engine.redeem_recovery_code("jdoe@example.org", issued.code, CTX)
    chosen = s.NewPassword.CHOSEN(password="Correct-Horse-Battery-9")
    store = s.StateStoreConfig.REDIS(url="redis://:hunter2@redis.example.org:6379/0")
    config = s.EngineConfig(secret_key=b"", secret_key_hex="ab" * 32, state_store=store,
                            bot_challenge_json='{"provider": "turnstile", "site_key": "k", "secret": "0xS3CR3T"}')
    check(notice.pin == pin and pin in notice.body and len(challenge.flow_id) == 32, "the fields hold the secrets")
    check(len(outcome.temporary_password) == 16 and len(issued.code) == 10 and len(recovered.flow_id) == 32,
          "the answers' fields hold the secrets")
    check(chosen.password == "Correct-Horse-Battery-9" and "hunter2" in store.url
          and config.secret_key_hex == "ab" * 32, "the fields the host set hold them")
    log = logging.getLogger("sspr-ffi-test")
    for name, value, secret in [
        ("ResetChallenge", challenge, challenge.flow_id), ("Notification", notice, pin),
        ("ResetOutcome", outcome, outcome.temporary_password), ("RecoveryCode", issued, issued.code),
        ("Recovered", recovered, recovered.flow_id), ("Chosen", chosen, "Correct-Horse"),
        ("Redis", store, "hunter2"), ("EngineConfig", config, "abab"), ("EngineConfig", config, "S3CR3T"),
    ]:
        record = log.makeRecord(log.name, logging.INFO, __file__, 0, "%s %r", (value, value), None)
        shown = [str(value), repr(value), f"{value}", f"{value!r}", "%s %r" % (value, value), str([value]),
                 str(RuntimeError(value)), repr(RuntimeError(value)), record.getMessage()]
        leaked = [text for text in shown if secret in text]
        check(not leaked, f"{name} printed its secret: {leaked[:1]}")
        check(name in str(value) and name in repr(value), f"{name} still says what it is: {value!s}")


class Hook(s.EventHook):
    """A host's event hook: remembers what it was told; raises when `fail` is set."""
    def __init__(self, events, fail=False):
        self._events, self.fail, self.heard = events, fail, []

    def events(self):
        return self._events

    async def on_event(self, event, audit_json):
        self.heard.append((event, json.loads(audit_json)))
        if self.fail:
            raise s.BackendFailure.Unavailable("the session service is down")


async def test_event_hooks():
    """Event hooks: each hears the events it names with the audit event (no secret); a raising
    hook does not break the reset and is audited as hook_failed; admins get one alert."""
    directory, notifier, clock, audit = Directory(), Notifier(), s.ManualClock(START), Audit()
    told, failing = Hook([s.HookEvent.RESET_COMPLETED, s.HookEvent.CONTACTS_CHANGED]), Hook(
        [s.HookEvent.RESET_COMPLETED], fail=True)
    policy = '{"min_response_ms": 0, "admin_alert_addresses": ["secops@example.org"]}'
    engine = new_engine(s.EngineConfig(secret_key=KEY, policy_json=policy, rng_seed=bytes(32)), directory, notifier,
                        Contacts(), clock, audit, None, [told, failing])
    await enroll_jdoe(engine)
    c = await engine.begin_reset("jdoe@example.org", CTX)
    await engine.send_pin(c.flow_id, "email", None, CTX)
    await engine.flush_deliveries()
    pin = [n.pin for n in notifier.sent if n.kind == s.MessageKind.PIN][-1]
    await engine.verify_pin(c.flow_id, pin, CTX)
    outcome = await engine.complete_reset(c.flow_id, s.NewPassword.TEMPORARY(), CTX)
    await engine.flush_deliveries()
    check(outcome.temporary_password is not None, "the reset completes whatever a hook does")
    check([e for e, _ in told.heard] == [s.HookEvent.CONTACTS_CHANGED, s.HookEvent.RESET_COMPLETED],
          f"heard: {[e for e, _ in told.heard]}")
    check(told.heard[-1][1]["user_id"] == "uid=jdoe,ou=staff,dc=example,dc=org", "the audit event names the user")
    check(outcome.temporary_password not in json.dumps([a for _, a in told.heard]) and pin not in json.dumps(
        [a for _, a in told.heard]), "no secret reaches a hook")
    failed = [e for e in audit.events if e["kind"] == "hook_failed"]
    check(len(failed) == 1 and "session service is down" in failed[0]["outcome"]["error"], f"failed: {failed}")
    await engine.begin_reset("root@example.org", CTX)
    await engine.begin_reset("root@example.org", s.RequestContext(client_ip="192.0.2.99"))
    await engine.flush_deliveries()
    alerts = [n for n in notifier.sent if n.to == "secops@example.org"]
    check(len(alerts) == 1 and alerts[0].kind == s.MessageKind.ADMIN_ALERT, f"alerts: {len(alerts)}")
    # A hook naming no event would never be called: refused, not silently idle.
    try:
        new_engine(s.EngineConfig(secret_key=KEY, policy_json=policy), directory, notifier, Contacts(), clock, audit,
                   None, [Hook([])])
        check(False, "a hook with no event was taken")
    except s.SsprError.Config as e:
        check("hook 1 subscribes to no event" in str(e), f"a hook with no event is Config naming it: {e}")
    try:
        new_engine(s.EngineConfig(secret_key=KEY, previous_keys_hex=["c3" * 32, "zz"]), directory, notifier)
        check(False, "a bad second previous key was taken")
    except s.SsprError.Config as e:
        check("previous key 2 is not valid hex" in str(e), f"a bad previous key is named by its position: {e}")


async def test_key_rotation():
    """previous_keys_hex: a PIN sent under the old key verifies on an engine with a new key that
    lists the old one; the new key alone refuses it (every pending reset ended at a rotation)."""
    with tempfile.TemporaryDirectory() as tmp:
        store = s.StateStoreConfig.SQLITE(path=os.path.join(tmp, "state.db"))
        directory, contacts, notifier, clock = Directory(), Contacts(), Notifier(), s.ManualClock(START)

        def engine(key, previous, seed):
            config = s.EngineConfig(secret_key=key, previous_keys_hex=previous, state_store=store,
                                    policy_json='{"min_response_ms": 0}', rng_seed=bytes([seed] * 32))
            return new_engine(config, directory, notifier, contacts, clock)

        old = engine(KEY, [], 1)
        await enroll_jdoe(old)
        challenge = await old.begin_reset("jdoe@example.org", CTX)
        await old.send_pin(challenge.flow_id, "email", None, CTX)
        pin = await notifier.last_pin()
        new_key = bytes([0xC3] * 32)
        await expect(s.SsprError.WrongPin, engine(new_key, [], 2).verify_pin(challenge.flow_id, pin, CTX),
                     "the new key alone refuses a PIN sent before the rotation")
        ring = engine(new_key, [KEY.hex()], 3)
        verified = await ring.verify_pin(challenge.flow_id, pin, CTX)
        check(verified is not None, "the ring verifies a PIN sent before the rotation")
        try:
            engine(new_key, ["abcd"], 4)
            check(False, "a short previous key was taken")
        except s.SsprError.Config:
            check(True, "a short previous key is Config")


async def test_default_settings_deliver_in_the_background():
    """With the default settings (the system clock, answers padded) the engine delivers a PIN
    from its own threads, after send_pin answered. uniffi's Python runs an async foreign method
    on the event loop of the thread that calls it, and the engine's threads have none: a host
    that never calls `uniffi_set_event_loop` gets no PIN while send_pin answers OK. The engine
    must see that as a failed delivery (each attempt given up at the backend timeout, the PIN
    audited as not delivered, flush_deliveries ending); with the loop set the PIN arrives."""
    async def padded(audit):
        directory, notifier = Directory(), Notifier()
        config = s.EngineConfig(secret_key=KEY, backend_timeout_ms=300)  # the default policy: padding on
        engine = new_engine(config, directory, notifier, Contacts(), audit=audit)
        await engine.set_enabled(ADMIN, "jdoe@example.org", True, CTX)
        await engine.update_contacts(
            ADMIN, "jdoe@example.org",
            s.ContactUpdate(email=s.ContactChange.SET(value="jane.doe@example.net"), phone=s.ContactChange.KEEP()), CTX)
        challenge = await engine.begin_reset("jdoe@example.org", CTX)
        sent = await engine.send_pin(challenge.flow_id, "email", None, CTX)
        check(sent.attempts_left == 5, "send_pin answers OK")
        return engine, notifier, challenge

    s.uniffi_set_event_loop(None)  # a host that never set it
    audit = Audit()
    engine, notifier, challenge = await padded(audit)
    await engine.flush_deliveries()  # ends: every attempt was given up at the backend timeout
    check(notifier.pins() == [], f"no loop, no PIN: {notifier.pins()}")
    failed = [e for e in audit.events if e.get("kind") == "pin_sent" and "not delivered" in json.dumps(e)]
    check(len(failed) == 1 and failed[0].get("flow_ref") is not None,
          f"the lost PIN is audited as not delivered: {[e.get('kind') for e in audit.events]} {failed}")

    s.uniffi_set_event_loop(asyncio.get_running_loop())  # what the README tells hosts to do
    audit = Audit()
    engine, notifier, challenge = await padded(audit)
    pin = await notifier.last_pin()
    verified = await engine.verify_pin(challenge.flow_id, pin, CTX)
    check(verified is not None, "with the loop set, the PIN arrives from the engine's thread and verifies")
    await engine.flush_deliveries()
    check(not any("not delivered" in json.dumps(e) for e in audit.events), "and nothing is audited as lost")


async def main():
    for test in (test_full_flow, test_key_rotation, test_expiry_decoy_and_errors, test_blocked_and_concurrency,
                 test_shared_store_and_audit, test_flush_waits_for_a_slow_notifier, test_parity,
                 test_change_password_and_rules, test_configured_password_checks, test_contact_proof,
                 test_admin_contacts_is_audited,
                 test_registration_coverage, test_helpdesk_recovery, test_event_hooks, test_bot_challenge,
                 test_flush_audit_and_metrics_text, test_printed_values_hide_secrets,
                 test_default_settings_deliver_in_the_background):
        try:
            await test()
        except Exception:  # noqa: BLE001
            traceback.print_exc()
            check(False, f"{test.__name__} raised")
    for engine in ENGINES:
        await engine.flush_deliveries()
    print(f"python: {passed} passed, {failed} failed")
    return failed == 0


if __name__ == "__main__":
    sys.exit(0 if asyncio.run(main()) else 1)
