"""Shared set-up: engines on in-memory and Python-implemented backends."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import os
import pathlib
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Awaitable, Callable, Dict, Iterator, List, Optional, Tuple, TypeVar

import pytest

import sspr

T = TypeVar("T")

KEY = bytes(range(32))
START = datetime.datetime(2026, 1, 5, 10, 0, tzinfo=datetime.timezone.utc)
JANE = "jdoe@example.org"
JANE_DN = "uid=jdoe,ou=staff,dc=example,dc=org"
JANE_MAIL = "jane@home.example"


def seed_directory() -> sspr.MemoryDirectory:
    d = sspr.MemoryDirectory()
    d.add(JANE, "Jane Doe", JANE_DN, password="Old-Passw0rd!")
    d.add("bob@example.org", "Bob Builder", "uid=bob,ou=staff,dc=example,dc=org")
    d.add("root@example.org", "Root Admin", "uid=root,ou=staff,dc=example,dc=org", ["Domain Admins"])
    d.add("gone@example.org", "Gone User", "uid=gone,ou=staff,dc=example,dc=org", disabled=True)
    return d


# ---------------------------------------------------------------------------------------
# Local HTTP stand-ins of the services sspr calls (an SMS gateway, a webhook, a bot challenge's
# siteverify): the real ones cannot be reached from the test machines.

#: ``(path, headers with lower-case names, body)`` -> ``(status, JSON payload)``.
Answer = Callable[[str, Dict[str, str], bytes], Tuple[int, Any]]


class JsonEndpoint:
    """A ``ThreadingHTTPServer`` on 127.0.0.1 that records every POST and answers it with JSON from ``answer``."""

    def __init__(self, answer: Answer) -> None:
        self.requests: List[Tuple[str, Dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                outer.requests.append((self.path, headers, body))
                status, answer_json = answer(self.path, headers, body)
                payload = json.dumps(answer_json).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def forms(self) -> List[Dict[str, str]]:
        """The bodies received, read as HTML forms."""
        return [dict(urllib.parse.parse_qsl(body.decode())) for _, _, body in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


#: The one token the siteverify stand-in passes.
GOOD_CHALLENGE = "stand-in-good-token-7c1"
CHALLENGE_SITE_KEY = "0x4AAA-site-key"
CHALLENGE_SECRET = "0x4AAA-s3cret"


class SiteVerify(JsonEndpoint):
    """A siteverify stand-in speaking the providers' documented shape: ``GOOD_CHALLENGE`` passes for
    reset.example.org, any other token is ``invalid-input-response``; ``down`` answers 503."""

    def __init__(self) -> None:
        self.down = False
        super().__init__(self._answer)

    def _answer(self, path: str, headers: Dict[str, str], body: bytes) -> Tuple[int, Any]:
        if self.down:
            return 503, {"error": "stand-in down"}
        ok = dict(urllib.parse.parse_qsl(body.decode())).get("response") == GOOD_CHALLENGE
        return 200, {"success": ok, "hostname": "reset.example.org", "error-codes": [] if ok else ["invalid-input-response"]}

    def config(self, provider: str = "turnstile", **more: Any) -> Dict[str, Any]:
        """A ``[bot_challenge]`` table for ``from_config`` checking tokens here."""
        return {
            "provider": provider, "site_key": CHALLENGE_SITE_KEY, "secret": CHALLENGE_SECRET,
            "verify_url": self.url + "/siteverify", "hostnames": ["reset.example.org"], **more,
        }


@pytest.fixture
def siteverify() -> Iterator[SiteVerify]:
    s = SiteVerify()
    yield s
    s.close()


@dataclass
class World:
    """An engine and the in-memory backends behind it."""

    directory: sspr.MemoryDirectory
    outbox: sspr.Outbox
    clock: sspr.ManualClock
    audit: sspr.MemoryAuditSink
    blocking: sspr.BlockingSspr

    @property
    def aio(self) -> sspr.Sspr:
        return self.blocking.asyncio()

    def enroll(self, login: str = JANE, email: str = JANE_MAIL) -> None:
        self.blocking.set_enabled(login, True, admin="helpdesk")
        self.blocking.update_contacts(login, email=email, admin="helpdesk")

    def pin(self, address: str = JANE_MAIL) -> str:
        secret = self.outbox.last_pin_to(address)
        assert secret is not None
        return secret.reveal()


def make_world(policy: Optional[sspr.Policy] = None, seed: bool = True) -> World:
    """An engine on a manual clock. Unless a policy is given, answers are not padded (padding
    would move the manual clock at every call and shift the times these tests check; it is
    tested in test_enumeration.py and test_flows.py)."""
    if policy is None:
        policy = sspr.Policy(min_response_ms=0)
    directory, outbox = seed_directory(), sspr.Outbox()
    clock, audit = sspr.ManualClock(START), sspr.MemoryAuditSink()
    engine = sspr.BlockingSspr(
        directory, outbox, secret_key=KEY, policy=policy, clock=clock, audit=audit,
        rng_seed=bytes(32) if seed else None,
    )
    return World(directory, outbox, clock, audit, engine)


@pytest.fixture
def world() -> World:
    w = make_world()
    w.enroll()
    return w


# ---------------------------------------------------------------------------------------
# Python-implemented backends, sync and async.


class SyncDirectory:
    """A directory written in Python with plain methods."""

    def __init__(self) -> None:
        self.users: Dict[str, sspr.DirectoryUser] = {}
        self.passwords: Dict[str, str] = {}
        self.must_change: Dict[str, bool] = {}
        self.calls: List[str] = []
        self.fail_with: Optional[BaseException] = None
        self.reject_passwords = False

    def add(self, login: str, name: str, groups: Optional[List[str]] = None) -> None:
        uid = login.split("@")[0].lower()
        self.users[login.lower()] = sspr.DirectoryUser(
            f"uid={uid}", login, name, f"uid={uid},ou=staff,dc=example,dc=org", groups or []
        )

    def find_user(self, login: str) -> Optional[sspr.DirectoryUser]:
        self.calls.append("find_user")
        if self.fail_with is not None:
            raise self.fail_with
        return self.users.get(login)

    def set_password(self, user_id: str, password: sspr.Secret, must_change: bool) -> None:
        self.calls.append("set_password")
        if self.reject_passwords:
            raise sspr.PasswordRejected("the directory's password history refuses it")
        self.passwords[user_id] = password.reveal()
        self.must_change[user_id] = must_change

    def unlock(self, user_id: str) -> None:
        self.calls.append("unlock")

    def authenticate(self, user_id: str, password: sspr.Secret) -> str:
        self.calls.append("authenticate")
        if self.passwords.get(user_id) != password.reveal():
            return "rejected"
        return "must_change" if self.must_change.get(user_id) else "accepted"

    def search(self, query: str, limit: int) -> List[sspr.DirectoryUser]:
        self.calls.append("search")
        q = query.lower()
        found = [u for u in self.users.values() if q in u.login.lower() or q in u.display_name.lower()]
        return sorted(found, key=lambda u: u.login)[:limit]


def waiting(method: Callable[..., T], seconds: float) -> Callable[..., Awaitable[T]]:
    """``method`` as an ``async def`` that really waits ``seconds`` first (0: a turn of the event loop)."""

    async def waited(*args: Any, **kwargs: Any) -> T:
        await asyncio.sleep(seconds)
        return method(*args, **kwargs)

    return waited


class AsyncDirectory(SyncDirectory):
    """The same directory with `async def` methods that really wait."""

    find_user = waiting(SyncDirectory.find_user, 0.001)
    set_password = waiting(SyncDirectory.set_password, 0.001)
    unlock = waiting(SyncDirectory.unlock, 0)
    authenticate = waiting(SyncDirectory.authenticate, 0.001)
    search = waiting(SyncDirectory.search, 0)


class SyncNotifier:
    def __init__(self) -> None:
        self.sent: List[sspr.Notification] = []
        self.fail_with: Optional[BaseException] = None

    def send(self, notification: sspr.Notification) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(notification)

    def last_pin(self) -> str:
        pins = [n.pin for n in self.sent if n.pin is not None]
        assert pins
        return pins[-1].reveal()


class AsyncNotifier(SyncNotifier):
    send = waiting(SyncNotifier.send, 0.001)


class SyncContacts:
    """A compare-and-set contact store in a dict, keeping JSON like a database would."""

    def __init__(self) -> None:
        self.rows: Dict[str, str] = {}

    def get(self, user_id: str) -> Optional[sspr.Enrollment]:
        text = self.rows.get(user_id)
        return None if text is None else sspr.Enrollment.from_json(text)

    def save(self, user_id: str, enrollment: sspr.Enrollment, expected_version: int) -> bool:
        current = SyncContacts.get(self, user_id)
        if (current.version if current else 0) != expected_version:
            return False
        self.rows[user_id] = enrollment.with_version(expected_version + 1).to_json()
        return True


class AsyncContacts(SyncContacts):
    get = waiting(SyncContacts.get, 0)
    save = waiting(SyncContacts.save, 0)


class ListAudit:
    def __init__(self) -> None:
        self.events: List[Dict[str, Any]] = []

    def record(self, event: Dict[str, Any]) -> None:
        self.events.append(event)


def verified_blocking_flow(s: sspr.BlockingSspr, notifier: "SyncNotifier", login: str = "pat@example.org") -> str:
    """Enable ``login``, register ``pat@home.example`` as an admin, and take a reset up to the
    verified PIN: the flow id, ready for ``complete_reset``."""
    s.set_enabled(login, True, admin="h")
    s.update_contacts(login, email="pat@home.example", admin="h")
    c = s.begin_reset(login)
    s.send_pin(c.flow_id, "email")
    s.verify_pin(c.flow_id, notifier.last_pin())
    return c.flow_id


def reset_by_outbox(s: sspr.BlockingSspr, outbox: sspr.Outbox, login: str, address: str) -> None:
    """A whole reset of ``login`` by e-mail, the PIN read from ``outbox`` at ``address``, checked
    through to the temporary password and the recorded reset."""
    flow = s.begin_reset(login).flow_id
    s.send_pin(flow, "email")
    s.flush_deliveries()
    pin = outbox.last_pin_to(address)
    assert pin is not None
    s.verify_pin(flow, pin)
    assert s.complete_reset(flow).temporary_password is not None
    assert s.status(login).last_reset_at is not None


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@contextlib.contextmanager
def slow_log_shipper(path: pathlib.Path, pause: float) -> Iterator[bytearray]:
    """A named pipe at ``path`` read by a log shipper slower than a disk (4 KB, then ``pause``
    seconds): a sink behind it backs up. Yields what the shipper received, whole once the
    ``with`` block has ended (the writer closed the pipe)."""
    os.mkfifo(path)
    received = bytearray()

    def ship() -> None:
        with open(path, "rb", buffering=0) as pipe:
            while chunk := pipe.read(4096):
                received.extend(chunk)
                time.sleep(pause)

    shipper = threading.Thread(target=ship, daemon=True)
    shipper.start()
    try:
        yield received
    finally:
        shipper.join(timeout=60)
