"""The Twilio and webhook notifiers through the Python package, against a fake HTTP endpoint
written here (Twilio and an SMS gateway cannot run on this machine): the wire format, the
signature, a whole SMS reset with the PIN taken from the request, and the error kinds."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List, Tuple

import pytest

import sspr
from conftest import JANE, KEY, seed_directory

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "twilio-t0ken-s3cret"
HOOK_KEY = "0123456789abcdef0123456789abcdef-s3cret"


class Endpoint:
    """Records every request; answers with `status`."""

    def __init__(self) -> None:
        self.requests: List[Tuple[str, Dict[str, str], bytes]] = []
        self.status = 201
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                payload = b'{"sid": "SM0123", "status": "queued"}' if outer.status < 300 else b'{"code": 21211, "message": "invalid To"}'
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    e = Endpoint()
    yield e
    e.server.shutdown()


def sms_engine(notifier: Any) -> sspr.BlockingSspr:
    s = sspr.BlockingSspr(seed_directory(), notifier, secret_key=KEY, policy=sspr.Policy(sms_enabled=True, decoy_country_codes=["44"]))
    s.set_enabled(JANE, True, admin="h")
    s.update_contacts(JANE, phone="+44 7700 900123", admin="h")
    return s


def test_twilio_sends_the_pin_by_sms(endpoint: Endpoint) -> None:
    notifier = sspr.backends.TwilioNotifier(
        account_sid=SID, auth_token=sspr.Secret(TOKEN), from_="+15005550006", base_url=endpoint.url
    )
    assert TOKEN not in repr(notifier)
    s = sms_engine(notifier)
    c = s.begin_reset(JANE)
    assert [m.id for m in c.methods] == ["sms"]
    s.send_pin(c.flow_id, "sms")
    path, headers, body = endpoint.requests[-1]
    assert path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert headers["authorization"] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    form = dict(urllib.parse.parse_qsl(body.decode()))
    assert form["To"] == "+447700900123" and form["From"] == "+15005550006"
    pin = "".join(ch for ch in form["Body"].split("code is ")[1].split(".")[0] if ch.isdigit())
    s.verify_pin(c.flow_id, pin)
    assert s.complete_reset(c.flow_id).temporary_password is not None


def test_twilio_refusal_and_unreachable_gateway(endpoint: Endpoint) -> None:
    endpoint.status = 400
    s = sms_engine(sspr.backends.TwilioNotifier(account_sid=SID, auth_token=TOKEN, from_="+15005550006", base_url=endpoint.url))
    c = s.begin_reset(JANE)
    with pytest.raises(sspr.BackendError) as err:
        s.send_pin(c.flow_id, "sms")
    assert err.value.kind == "rejected" and "21211" in str(err.value)
    endpoint.status = 503
    with pytest.raises(sspr.BackendError) as err:
        s.send_pin(c.flow_id, "sms")
    assert err.value.kind == "unavailable"
    with pytest.raises(sspr.ConfigError, match="auth_token"):
        sspr.backends.TwilioNotifier(account_sid=SID, from_="+15005550006")


def test_webhook_posts_a_signed_notice(endpoint: Endpoint) -> None:
    endpoint.status = 200
    notifier = sspr.backends.WebhookNotifier(url=endpoint.url + "/sspr", key=sspr.Secret(HOOK_KEY))
    assert HOOK_KEY not in repr(notifier)
    s = sms_engine(notifier)
    c = s.begin_reset(JANE)
    s.send_pin(c.flow_id, "sms")
    path, headers, body = endpoint.requests[-1]
    assert path == "/sspr"
    stamp = headers["x-sspr-timestamp"]
    expected = hmac.new(HOOK_KEY.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["x-sspr-signature"] == "v1=" + expected
    notice = json.loads(body)
    assert notice["kind"] == "pin" and notice["to"] == "+447700900123" and notice["channel"] == "sms"
    s.verify_pin(c.flow_id, notice["pin"])
    s.complete_reset(c.flow_id)
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
    pin = json.loads(endpoint.requests[-1][2])["pin"]
    assert outbox.last_pin_to("jane@home.example") is None
    s.verify_pin(c.flow_id, pin)
    s.complete_reset(c.flow_id)
    # "Your password was reset" goes to every contact, each by its own channel.
    assert [n.kind for n in outbox.messages_to("jane@home.example")][-1] == "password_reset"
    assert json.loads(endpoint.requests[-1][2])["kind"] == "password_reset"

    only_mail = sms_engine(sspr.ChannelNotifier(email=sspr.Outbox()))
    c = only_mail.begin_reset(JANE)
    with pytest.raises(sspr.BackendError) as err:
        only_mail.send_pin(c.flow_id, "sms")
    assert err.value.kind == "rejected" and "sms" in str(err.value)
