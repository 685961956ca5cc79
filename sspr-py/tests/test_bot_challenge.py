"""The bot challenge through the Python package: `[bot_challenge]` from `from_config`, the
widget's token passed to `begin_reset(challenge_token=...)`, and what the engine tells a page
about its widget (`challenge_widget()`), against the siteverify stand-in of conftest (the real
endpoints cannot be reached from the test machines)."""

from __future__ import annotations

from typing import Any

import pytest

import sspr
from conftest import CHALLENGE_SECRET, CHALLENGE_SITE_KEY, GOOD_CHALLENGE, KEY, SiteVerify


def engine_with(challenge: Any) -> sspr.BlockingSspr:
    b = sspr.backends.from_config({"bot_challenge": challenge})
    assert b.bot_challenge is not None and CHALLENGE_SECRET not in repr(b.bot_challenge)
    assert b.memory_directory is not None
    b.memory_directory.add("cora@example.org", "Cora Config", "uid=cora,ou=staff,dc=example,dc=org")
    s = sspr.BlockingSspr(b.directory, b.notifier, secret_key=KEY, contacts=b.contacts, store=b.store,
                          policy=sspr.Policy(min_response_ms=0), bot_challenge=b.bot_challenge)
    s.set_enabled("cora@example.org", True, admin="h")
    s.update_contacts("cora@example.org", email="cora@home.example", admin="h")
    return s


def test_the_token_passes_through_begin_reset(siteverify: SiteVerify) -> None:
    s = engine_with(siteverify.config())
    ctx = sspr.RequestContext(client_ip="192.0.2.44")

    with pytest.raises(sspr.ChallengeError) as missing:
        s.begin_reset("cora@example.org", ctx)
    assert (missing.value.code, missing.value.reason) == ("challenge", "required")
    for login in ["cora@example.org", "nobody@example.org"]:
        with pytest.raises(sspr.ChallengeError) as refused:
            s.begin_reset(login, ctx, challenge_token="forged-token")
        assert refused.value.reason == "failed"
        assert "forged-token" not in str(refused.value)

    challenge = s.begin_reset("cora@example.org", ctx, challenge_token=GOOD_CHALLENGE)
    assert [m.channel for m in challenge.methods] == ["email"]
    assert siteverify.forms()[-1] == {"secret": CHALLENGE_SECRET, "response": GOOD_CHALLENGE, "remoteip": "192.0.2.44"}

    with pytest.raises(sspr.InvalidInput) as bad:
        s.begin_reset("cora@example.org", ctx, challenge_token="a b")
    assert bad.value.field == "challenge_token"


@pytest.mark.parametrize(
    "provider, script, field, origins, directives",
    [
        ("turnstile", "https://challenges.cloudflare.com/turnstile/v0/api.js", "cf-turnstile-response",
         "https://challenges.cloudflare.com", ["script-src", "frame-src"]),
        ("hcaptcha", "https://js.hcaptcha.com/1/api.js", "h-captcha-response",
         "https://hcaptcha.com https://*.hcaptcha.com", ["script-src", "frame-src", "style-src", "connect-src"]),
    ],
)
def test_the_engine_says_what_the_widget_needs_and_never_the_secret(
    siteverify: SiteVerify, provider: str, script: str, field: str, origins: str, directives: list[str]
) -> None:
    widget = engine_with(siteverify.config(provider)).challenge_widget()
    assert widget is not None
    assert (widget.provider, widget.site_key, widget.script_url, widget.response_field, widget.always) == (
        provider, CHALLENGE_SITE_KEY, script, field, True)
    assert CHALLENGE_SECRET not in repr(widget)
    csp = widget.csp("default-src 'none'; base-uri 'none'")
    assert csp == "default-src 'none'; base-uri 'none'; " + "; ".join(f"{d} {origins}" for d in directives)
    # After N begins: the widget is not on every start page.
    later = engine_with(siteverify.config(provider, policy="after_begins", begins_per_ip=2)).challenge_widget()
    assert later is not None and later.always is False
    assert engine_with_nothing().challenge_widget() is None


def engine_with_nothing() -> sspr.BlockingSspr:
    return sspr.BlockingSspr(sspr.MemoryDirectory(), sspr.Outbox(), secret_key=KEY)
