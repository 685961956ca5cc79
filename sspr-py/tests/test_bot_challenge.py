"""The bot challenge through the Python package: `[bot_challenge]` from `from_config`, the
widget's token passed to `begin_reset(challenge_token=...)`, against a stand-in of
Cloudflare Turnstile's siteverify written here (the real endpoint cannot be reached from the
test machines)."""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List

import pytest

import sspr
from conftest import KEY

GOOD = "stand-in-good-token-7c1"


class SiteVerify:
    """A Turnstile siteverify stand-in: `GOOD` passes, any other token is refused."""

    def __init__(self) -> None:
        self.forms: List[Dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                form = dict(urllib.parse.parse_qsl(body))
                outer.forms.append(form)
                ok = form.get("response") == GOOD
                answer = {"success": ok, "hostname": "reset.example.org", "error-codes": [] if ok else ["invalid-input-response"]}
                payload = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/siteverify"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def siteverify() -> Iterator[SiteVerify]:
    s = SiteVerify()
    yield s
    s.server.shutdown()


def test_the_token_passes_through_begin_reset(siteverify: SiteVerify) -> None:
    b = sspr.backends.from_config({
        "bot_challenge": {
            "provider": "turnstile", "site_key": "0x4AAA-site", "secret": "0x4AAA-s3cret",
            "verify_url": siteverify.url, "hostnames": ["reset.example.org"],
        },
    })
    assert b.bot_challenge is not None and "s3cret" not in repr(b.bot_challenge)
    assert b.memory_directory is not None
    b.memory_directory.add("cora@example.org", "Cora Config", "uid=cora,ou=staff,dc=example,dc=org")
    s = sspr.BlockingSspr(b.directory, b.notifier, secret_key=KEY, contacts=b.contacts, store=b.store,
                          policy=sspr.Policy(min_response_ms=0), bot_challenge=b.bot_challenge)
    s.set_enabled("cora@example.org", True, admin="h")
    s.update_contacts("cora@example.org", email="cora@home.example", admin="h")
    ctx = sspr.RequestContext(client_ip="192.0.2.44")

    with pytest.raises(sspr.ChallengeError) as missing:
        s.begin_reset("cora@example.org", ctx)
    assert (missing.value.code, missing.value.reason) == ("challenge", "required")
    for login in ["cora@example.org", "nobody@example.org"]:
        with pytest.raises(sspr.ChallengeError) as refused:
            s.begin_reset(login, ctx, challenge_token="forged-token")
        assert refused.value.reason == "failed"
        assert "forged-token" not in str(refused.value)

    challenge = s.begin_reset("cora@example.org", ctx, challenge_token=GOOD)
    assert [m.channel for m in challenge.methods] == ["email"]
    assert siteverify.forms[-1] == {"secret": "0x4AAA-s3cret", "response": GOOD, "remoteip": "192.0.2.44"}

    with pytest.raises(sspr.InvalidInput) as bad:
        s.begin_reset("cora@example.org", ctx, challenge_token="a b")
    assert bad.value.field == "challenge_token"
