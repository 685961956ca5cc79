"""Checked by `mypy --strict` (not a test module): the stubs describe the API as used, and
plain and `async def` backends both satisfy the protocols."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any, Dict, List, Optional, Tuple, Union

import sspr


class Dir:
    async def find_user(self, login: str) -> Optional[sspr.DirectoryUser]:
        await asyncio.sleep(0)
        return sspr.DirectoryUser("uid=a", login, "A B", "uid=a,dc=example,dc=org", [])

    def set_password(self, user_id: str, password: sspr.Secret, must_change: bool) -> None:
        _ = (user_id, password.reveal(), must_change)

    def unlock(self, user_id: str) -> None:
        _ = user_id

    def authenticate(self, user_id: str, password: sspr.Secret) -> sspr.protocols.Authentication:
        return "accepted" if password.reveal() else "rejected"

    async def search(self, query: str, limit: int) -> List[sspr.DirectoryUser]:
        return []


class Mail:
    def send(self, notification: sspr.Notification) -> None:
        _ = (notification.to, notification.subject, notification.text())


class Audit:
    def __init__(self) -> None:
        self.events: List[Dict[str, Any]] = []

    async def record(self, event: Dict[str, Any]) -> None:
        self.events.append(event)


class Store:
    """A host state store over a dict (README: `store=` takes the `sspr.StateStore` protocol)."""

    def __init__(self) -> None:
        self.data: Dict[str, Tuple[bytes, int, datetime.datetime]] = {}

    async def get(self, key: str, now: datetime.datetime) -> Optional[Tuple[bytes, int]]:
        found = self.data.get(key)
        return None if found is None or found[2] <= now else (found[0], found[1])

    def put(
        self, key: str, value: bytes, expected_version: Optional[int], expires_at: datetime.datetime, now: datetime.datetime
    ) -> Optional[int]:
        found = self.data.get(key)
        live = found[1] if found is not None and found[2] > now else None
        if live != expected_version:
            return None
        self.data[key] = (value, (live or 0) + 1, expires_at)
        return (live or 0) + 1

    def increment(self, key: str, expires_at: datetime.datetime, now: datetime.datetime) -> Tuple[int, datetime.datetime]:
        return 1, expires_at

    def delete(self, key: str) -> None:
        self.data.pop(key, None)


def a_host_store_is_a_store() -> None:
    store: sspr.StateStore = Store()
    sspr.testing.check_state_store(store)
    _ = sspr.BlockingSspr(Dir(), Mail(), secret_key=b"k" * 32, store=Store())


def protocols_hold() -> None:
    directory: sspr.Directory = Dir()
    notifier: sspr.Notifier = Mail()
    audit: sspr.AuditSink = Audit()
    _ = (directory, notifier, audit)


async def flow() -> Optional[str]:
    s = sspr.Sspr(Dir(), Mail(), secret_key=b"k" * 32, audit=Audit(), policy=sspr.Policy(pin_length=6))
    widget: Optional[sspr.ChallengeWidget] = s.challenge_widget()
    if widget is not None:
        csp: str = widget.csp("default-src 'none'")
        shown: bool = widget.always
        _ = (csp, shown, widget.provider, widget.site_key, widget.script_url, widget.response_field)
    c = await s.begin_reset("a@example.org", sspr.RequestContext(client_ip="192.0.2.1"), challenge_token=None)
    expires: datetime.datetime = c.expires_at
    sent = await s.send_pin(c.flow_id, c.methods[0].id)
    left: int = sent.attempts_left
    try:
        await s.verify_pin(c.flow_id, "123456")
    except sspr.WrongPin as e:
        left = e.attempts_left
    except sspr.RateLimited as e:
        wait: datetime.timedelta = e.retry_after
        _ = wait
    except sspr.Blocked as e:
        until: datetime.datetime = e.until
        _ = until
    outcome = await s.complete_reset(c.flow_id, "temporary")
    _ = (expires, left)
    return outcome.temporary_password.reveal() if outcome.temporary_password else None


def pages_catalogue(accept_language: Optional[str]) -> str:
    """The pages' catalogue: the negotiated language is one a RequestContext takes as it is."""
    lang = sspr.negotiate_locale(accept_language, ["de", "fr"])
    ctx = sspr.RequestContext(locale=lang)
    # A language the user chose, as a tag (README: "an explicit tag such as fr-CA") or as the host keeps it.
    chosen: str = "fr-CA"
    _ = (sspr.RequestContext(locale="de-CH"), sspr.RequestContext(locale=chosen))
    at = datetime.datetime(2026, 12, 1, 19, 4, tzinfo=datetime.timezone.utc)
    _ = ctx
    return sspr.page_text(lang, "pin-status", {"time": at, "attempts": 3}) + sspr.page_text(lang, "reset-title")


def answer_of(err: sspr.SsprError, lang: str) -> Tuple[int, str, str, Dict[str, Union[str, int]]]:
    """What a web user is told for an error: sspr-core's answer, said in ``lang``."""
    said = sspr.page_text(lang, err.message_id, err.message_args)
    return err.http_status, err.answer_code, said, dict(err.answer_fields)
