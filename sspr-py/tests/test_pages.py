"""sspr.page_text and sspr.negotiate_locale: the web pages' catalogue through the binding, the same words the
portal and the framework routers use, and what the binding refuses."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

import sspr

AT = datetime.datetime(2026, 12, 1, 19, 4, tzinfo=datetime.timezone.utc)


def test_a_message_in_each_language_with_counts_texts_and_dates() -> None:
    assert sspr.page_text("de-CH", "wrong-pin", {"attempts": 1}) == "Der Code ist falsch. Noch 1 Versuch."
    assert sspr.page_text("de", "wrong-pin", {"attempts": 2}) == "Der Code ist falsch. Noch 2 Versuche."
    assert sspr.page_text("fr", "wrong-pin", {"attempts": 3}) == "Le code est incorrect. 3 tentatives restantes."
    assert sspr.page_text("en", "pin-status", {"time": AT, "attempts": 2}) == "Valid until 19:04 (UTC). 2 attempts left."
    assert "1. Dezember 2026 um 19:04 (UTC)" in sspr.page_text("de", "blocked", {"at": AT})
    assert sspr.page_text("nl", "code-sent-by", {"channel": "sms"}) == "We hebben een code per sms gestuurd."
    # Every language has every message the routers use, in its own words.
    for lang in ("de", "fr", "es", "it", "nl"):
        for id in ("code-title", "second-title", "modes-title", "done-title", "err-too-large", "err-not-possible"):
            assert sspr.page_text(lang, id) != sspr.page_text("en", id), (lang, id)


def test_negotiation_picks_among_the_offered_languages() -> None:
    assert sspr.negotiate_locale("de-CH, en;q=0.5") == "de"
    assert sspr.negotiate_locale("pt-BR") == "en"
    assert sspr.negotiate_locale(None) == "en"
    assert sspr.negotiate_locale("nl", ["fr", "de"]) == "fr"
    assert sspr.negotiate_locale("nl, de;q=0.1", ["fr", "de"]) == "de"


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda: sspr.page_text("pt", "reset-title"), "locale"),
        (lambda: sspr.page_text("en", "no-such-message"), "id"),
        (lambda: sspr.negotiate_locale("de", ["de", "pt"]), "locale"),
    ],
)
def test_an_unknown_language_or_message_is_refused_by_name(call: Any, field: str) -> None:
    with pytest.raises(sspr.InvalidInput) as refused:
        call()
    assert refused.value.field == field


@pytest.mark.parametrize("value", [True, -1, 1.5, [1], datetime.date(2026, 12, 1)])
def test_an_argument_that_is_not_a_text_count_or_datetime_is_a_type_error(value: Any) -> None:
    with pytest.raises(TypeError):
        sspr.page_text("en", "wrong-pin", {"attempts": value})
