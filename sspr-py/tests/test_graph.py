"""The Microsoft Graph directory and contact store through ``sspr.backends.from_config``, the
same configuration as the portal's, against the Graph/Entra stand-in as a process
(``sspr-graph-standin``, which scripts/test.d/40-python.sh builds and names in
``SSPR_GRAPH_STANDIN``). Graph itself is unreachable from the test machine: verified against
the stand-in only."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest

import sspr
from conftest import KEY, reset_by_outbox

ADA = "ada@contoso.example"
ADA_ID = "0a0a0a0a-0000-4000-8000-00000000ada0"
APP_SECRET = "graph~app-secret"


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[str]:
    binary = os.environ.get("SSPR_GRAPH_STANDIN")
    assert binary, "SSPR_GRAPH_STANDIN is not set: run this suite via ./scripts/test.sh python"
    seed = tmp_path / "tenant.json"
    seed.write_text(json.dumps({
        "client_id": "sspr-graph-app", "client_secret": APP_SECRET,
        "users": [
            {"id": ADA_ID, "upn": ADA, "display_name": "Ada Lovelace", "groups": ["SSPR Users"]},
            {"upn": "root@contoso.example", "display_name": "Root",
             "roles": [{"name": "Global Administrator", "template": "62e90394-69f5-4237-9190-012177145e10"}]},
        ],
    }))
    log = tmp_path / "standin.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([binary, "--seed", str(seed), "--key-dir", str(tmp_path)], stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not log.read_text().startswith("listening on "):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield log.read_text().split()[2].rstrip("/")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def graph_config(url: str, tmp_path: Path) -> dict[str, object]:
    return {
        "directory": {"kind": "graph", "tenant_id": "contoso.onmicrosoft.com", "client_id": "sspr-graph-app",
                      "client_secret": APP_SECRET, "authority_url": url, "graph_url": url},
        "contacts": {"kind": "graph"},
        "store": {"kind": "sqlite", "path": str(tmp_path / "sspr.sqlite")},
    }


def test_a_whole_reset_on_the_graph_directory_and_contact_store(standin: str, tmp_path: Path) -> None:
    b = sspr.backends.from_config(graph_config(standin, tmp_path))
    assert b.outbox is not None
    s = sspr.BlockingSspr(b.directory, b.notifier, secret_key=KEY, contacts=b.contacts, store=b.store,
                          policy=sspr.Policy(min_response_ms=0))
    s.set_enabled(ADA, True, admin="helpdesk")
    # Written to Ada's Entra e-mail methods, read back from there.
    s.update_contacts(ADA, email="ada@home.example", admin="helpdesk")
    contacts = s.contacts(ADA)
    assert contacts.email is not None and contacts.email.value == "ada@home.example"
    status = s.status(ADA)
    assert status.user_id == ADA_ID and status.display_name == "Ada Lovelace" and not status.privileged
    # The password is set through passwordProfile (the stand-in refuses a password below Entra's complexity).
    reset_by_outbox(s, b.outbox, ADA, "ada@home.example")


def test_a_global_administrator_is_privileged_and_a_wrong_secret_is_a_backend_error_without_it(standin: str, tmp_path: Path) -> None:
    b = sspr.backends.from_config(graph_config(standin, tmp_path))
    s = sspr.BlockingSspr(b.directory, b.notifier, secret_key=KEY, contacts=b.contacts, store=b.store,
                          policy=sspr.Policy(min_response_ms=0))
    # A directory role read from transitiveMemberOf makes the account privileged.
    assert s.status("root@contoso.example").privileged is True
    config = graph_config(standin, tmp_path)
    config["directory"] = {**config["directory"], "client_secret": "not-the-secret"}  # type: ignore[dict-item]
    wrong = sspr.backends.from_config(config)
    w = sspr.BlockingSspr(wrong.directory, wrong.notifier, secret_key=KEY, contacts=wrong.contacts, store=wrong.store,
                          policy=sspr.Policy(min_response_ms=0))
    with pytest.raises(sspr.BackendError) as refused:
        w.status(ADA)
    assert refused.value.kind == "rejected", refused.value.kind
    assert "not-the-secret" not in str(refused.value) and "not-the-secret" not in repr(refused.value)
