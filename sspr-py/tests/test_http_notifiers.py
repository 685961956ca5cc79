"""The Twilio and webhook notifiers through the Python package, against a fake HTTP endpoint
written here (Twilio and an SMS gateway cannot run on this machine): the wire format, the
signature, a whole SMS reset with the PIN taken from the request, and the error kinds."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from typing import Any, Dict, Iterator, List, Tuple

import pytest

import sspr
from conftest import JANE, KEY, START, JsonEndpoint, seed_directory

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "twilio-t0ken-s3cret"
HOOK_KEY = "0123456789abcdef0123456789abcdef-s3cret"


class Endpoint(JsonEndpoint):
    """Records every request; answers with `status`."""

    def __init__(self) -> None:
        self.status = 201
        super().__init__(self._answer)

    def _answer(self, path: str, headers: Dict[str, str], body: bytes) -> Tuple[int, Any]:
        if self.status < 300:
            return self.status, {"sid": "SM0123", "status": "queued"}
        return self.status, {"code": 21211, "message": "invalid To"}


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    e = Endpoint()
    yield e
    e.close()


def sms_engine(notifier: Any, audit: Any = None) -> sspr.BlockingSspr:
    # A manual clock: padding and the retries of a failed delivery take no real time.
    s = sspr.BlockingSspr(
        seed_directory(), notifier, secret_key=KEY, policy=sspr.Policy(sms_enabled=True, decoy_country_codes=["44"]),
        clock=sspr.ManualClock(START), audit=audit,
    )
    s.set_enabled(JANE, True, admin="h")
    s.update_contacts(JANE, phone="+44 7400 900123", admin="h")
    return s


def failed_deliveries(audit: sspr.MemoryAuditSink) -> List[str]:
    """The errors of the PIN deliveries the audit trail records as failed."""
    return [
        str(e["outcome"]["error"]) for e in audit.events()
        if e["kind"] == "pin_sent" and e["outcome"]["result"] == "failed"
    ]


def test_twilio_sends_the_pin_by_sms(endpoint: Endpoint) -> None:
    notifier = sspr.backends.TwilioNotifier(
        account_sid=SID, auth_token=sspr.Secret(TOKEN), from_="+15005550006", base_url=endpoint.url
    )
    assert TOKEN not in repr(notifier)
    s = sms_engine(notifier)
    c = s.begin_reset(JANE)
    assert [m.id for m in c.methods] == ["sms"]
    s.send_pin(c.flow_id, "sms")
    s.flush_deliveries()  # delivered off the request path
    path, headers, body = endpoint.requests[-1]
    assert path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert headers["authorization"] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    form = dict(urllib.parse.parse_qsl(body.decode()))
    assert form["To"] == "+447400900123" and form["From"] == "+15005550006"
    pin = "".join(ch for ch in form["Body"].split("code is ")[1].split(".")[0] if ch.isdigit())
    s.verify_pin(c.flow_id, pin)
    assert s.complete_reset(c.flow_id).temporary_password is not None


def test_twilio_refusal_and_unreachable_gateway(endpoint: Endpoint) -> None:
    endpoint.status = 400
    audit = sspr.MemoryAuditSink()
    notifier = sspr.backends.TwilioNotifier(account_sid=SID, auth_token=TOKEN, from_="+15005550006", base_url=endpoint.url)
    s = sms_engine(notifier, audit)
    c = s.begin_reset(JANE)
    # A gateway failure is not the caller's business (an unknown login would not see it): the
    # send is answered as a decoy's and the audit trail records why nothing arrived.
    s.send_pin(c.flow_id, "sms")
    s.flush_deliveries()
    assert "21211" in failed_deliveries(audit)[-1]
    endpoint.status = 503
    c = s.begin_reset(JANE)
    s.send_pin(c.flow_id, "sms")
    s.flush_deliveries()
    assert "Unavailable" in failed_deliveries(audit)[-1] and "3 attempt(s)" in failed_deliveries(audit)[-1]
    with pytest.raises(sspr.ConfigError, match="auth_token"):
        sspr.backends.TwilioNotifier(account_sid=SID, from_="+15005550006")


def test_webhook_posts_a_signed_notice(endpoint: Endpoint) -> None:
    endpoint.status = 200
    notifier = sspr.backends.WebhookNotifier(url=endpoint.url + "/sspr", key=sspr.Secret(HOOK_KEY))
    assert HOOK_KEY not in repr(notifier)
    s = sms_engine(notifier)
    c = s.begin_reset(JANE)
    s.send_pin(c.flow_id, "sms")
    s.flush_deliveries()  # delivered off the request path
    path, headers, body = endpoint.requests[-1]
    assert path == "/sspr"
    stamp = headers["x-sspr-timestamp"]
    expected = hmac.new(HOOK_KEY.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["x-sspr-signature"] == "v1=" + expected
    notice = json.loads(body)
    assert notice["kind"] == "pin" and notice["to"] == "+447400900123" and notice["channel"] == "sms"
    s.verify_pin(c.flow_id, notice["pin"])
    s.complete_reset(c.flow_id)
    s.flush_deliveries()  # the notice too leaves the request path
    assert json.loads(endpoint.requests[-1][2])["kind"] == "password_reset"
    with pytest.raises(sspr.BackendError):
        sspr.backends.WebhookNotifier(url="ftp://example.org/x", key=HOOK_KEY)


def test_channel_notifier_routes_email_and_sms(endpoint: Endpoint) -> None:
    endpoint.status = 200
    outbox = sspr.Outbox()
    notifier = sspr.ChannelNotifier(email=outbox, sms=sspr.backends.WebhookNotifier(url=endpoint.url, key=HOOK_KEY))
    s = sms_engine(notifier)
    s.update_contacts(JANE, email="jane@home.example", admin="h")
    c = s.begin_reset(JANE)
    assert sorted(m.id for m in c.methods) == ["email", "sms"]
    s.send_pin(c.flow_id, "sms")
    s.flush_deliveries()  # delivered off the request path
    # The admin's change told the phone too ("contacts changed"), off the request path: the
    # two texts may reach the gateway in either order.
    texts = [json.loads(body) for _, _, body in endpoint.requests]
    assert [t["kind"] for t in texts].count("contacts_changed") == 1
    pin = next(t["pin"] for t in reversed(texts) if t["kind"] == "pin")
    assert outbox.last_pin_to("jane@home.example") is None
    s.verify_pin(c.flow_id, pin)
    s.complete_reset(c.flow_id)
    s.flush_deliveries()  # the notices too leave the request path
    # "Your password was reset" goes to every contact, each by its own channel.
    assert [n.kind for n in outbox.messages_to("jane@home.example")][-1] == "password_reset"
    assert json.loads(endpoint.requests[-1][2])["kind"] == "password_reset"

    audit = sspr.MemoryAuditSink()
    only_mail = sms_engine(sspr.ChannelNotifier(email=sspr.Outbox()), audit)
    c = only_mail.begin_reset(JANE)
    only_mail.send_pin(c.flow_id, "sms")
    only_mail.flush_deliveries()
    assert "Rejected" in failed_deliveries(audit)[-1] and "sms" in failed_deliveries(audit)[-1]
