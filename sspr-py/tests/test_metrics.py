"""The engine's metrics for a Python host: ``metrics=True`` and ``metrics_text()`` (Prometheus
text for the host's scrape endpoint)."""

from __future__ import annotations

import re

import sspr
from conftest import JANE, JANE_MAIL, KEY, START, seed_directory


def value(text: str, series: str) -> float:
    """The value of the series written exactly as ``series`` (name and labels), 0 if absent."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split(" ")[-1])
    return 0.0


def test_a_reset_moves_the_counters_and_the_histograms_without_identifiers() -> None:
    outbox = sspr.Outbox()
    s = sspr.BlockingSspr(
        seed_directory(), outbox, secret_key=KEY, policy=sspr.Policy(min_response_ms=0),
        clock=sspr.ManualClock(START), rng_seed=bytes(32), metrics=True,
    )
    s.set_enabled(JANE, True, admin="helpdesk")
    s.update_contacts(JANE, email=JANE_MAIL, admin="helpdesk")
    # The registry is the process's: compare with what was counted before this reset.
    before = s.metrics_text()
    challenge = s.begin_reset(JANE)
    s.send_pin(challenge.flow_id, "email")
    s.flush_deliveries()
    pin = outbox.last_pin_to(JANE_MAIL)
    assert pin is not None
    s.verify_pin(challenge.flow_id, pin.reveal())
    s.complete_reset(challenge.flow_id, "temporary")
    s.flush_deliveries()
    text = s.metrics_text()
    # The asyncio twin reads the same registry (the exporter's series come in no fixed order).
    assert sorted(text.splitlines()) == sorted(s.asyncio().metrics_text().splitlines())

    def moved(series: str) -> float:
        return value(text, series) - value(before, series)

    assert moved('sspr_begins_total{result="real",decoy_reason="none"}') == 1, text
    assert moved('sspr_pins_sent_total{channel="email",result="real"}') == 1, text
    assert moved('sspr_completions_total{mode="temporary",outcome="success"}') == 1, text
    for op in ("begin_reset", "send_pin", "verify_pin", "complete_reset"):
        assert moved(f'sspr_engine_call_seconds_count{{operation="{op}"}}') == 1, (op, text)
    assert moved('sspr_backend_call_seconds_count{backend="directory",operation="set_password"}') == 1, text
    # The PIN, then the "your password was reset" notice.
    assert moved('sspr_backend_call_seconds_count{backend="notifier",operation="send"}') == 2, text
    # Histograms with buckets, as Prometheus expects them.
    assert re.search(r'^sspr_engine_call_seconds_bucket\{operation="begin_reset",le="\+Inf"\} \d+$', text, re.M), text
    assert "# TYPE sspr_engine_call_seconds histogram" in text, text
    for identifier in (JANE, JANE_MAIL, challenge.flow_id, pin.reveal(), "jdoe"):
        assert identifier not in text, identifier
