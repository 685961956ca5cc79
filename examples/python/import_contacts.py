"""Admin automation: enable self-service reset and import contacts for the users in a CSV file.

    python examples/python/import_contacts.py users.csv --admin alice --directory users.json \
        --contacts-db /var/lib/sspr/sspr.db

The CSV has a header with ``login`` and at least one of ``email`` and ``phone``. Each row is
checked completely before anything is changed: a bad row (unknown user, malformed address,
ineligible or privileged user, ...) is reported and skipped, never imported halfway; if a
change fails after the user was enabled, the enabling is undone. Every row's outcome is
printed; the exit status is 0 when every row was imported, 1 when some were skipped, 2 for a
usage error.

The directory here is an in-memory one from a JSON seed (``--directory``); the enrollments go
into the SQLite database the portal uses (``--contacts-db``, ``sspr.backends.SqliteStore``),
or stay in memory without it. A deployment with LDAP passes ``sspr.backends.LdapDirectory``
(and its contact store) to ``BlockingSspr`` the same way.
"""

from __future__ import annotations

import argparse
import csv
import secrets
import sys
from dataclasses import dataclass
from typing import Iterable, List, Optional, TextIO

import sspr


@dataclass
class RowResult:
    """One row's outcome."""

    line: int
    login: str
    ok: bool
    detail: str


def _clean(value: Optional[str]) -> Optional[str]:
    value = (value or "").strip()
    return value or None


def import_rows(engine: sspr.BlockingSspr, rows: Iterable[dict[str, str]], admin: str) -> List[RowResult]:
    """Import every row; each either fully succeeds or changes nothing."""
    results: List[RowResult] = []
    for line, row in enumerate(rows, start=2):
        login = (row.get("login") or "").strip()
        email, phone = _clean(row.get("email")), _clean(row.get("phone"))
        try:
            # Check everything first: nothing is changed for a bad row.
            sspr.primitives.normalize_login(login)
            if email is None and phone is None:
                raise sspr.InvalidInput("no e-mail address or phone number", field="email", reason="missing")
            if email is not None:
                sspr.primitives.normalize_email(email)
            if phone is not None:
                sspr.primitives.normalize_phone(phone)
            status = engine.status(login)
            if status.privileged:
                raise sspr.NotAllowed("privileged account", reason="privileged")
            if not status.eligible:
                raise sspr.NotAllowed("not eligible", reason="ineligible")
        except sspr.SsprError as err:
            results.append(RowResult(line, login, False, f"skipped: {describe(err)}"))
            continue

        was_enabled = status.enabled
        try:
            engine.set_enabled(login, True, admin=admin)
            contacts = engine.update_contacts(login, email=email, phone=phone, admin=admin)
        except sspr.SsprError as err:
            if not was_enabled:
                try:
                    engine.set_enabled(login, False, admin=admin)
                except sspr.SsprError:
                    pass
            results.append(RowResult(line, login, False, f"skipped: {describe(err)}"))
            continue
        shown = ", ".join(c.masked for c in (contacts.email, contacts.phone) if c is not None)
        results.append(RowResult(line, login, True, f"enabled, contacts {shown}"))
    return results


def describe(err: sspr.SsprError) -> str:
    if isinstance(err, sspr.UnknownUser):
        return "no such user in the directory"
    if isinstance(err, sspr.InvalidInput):
        return f"invalid {err.field}: {err.reason}"
    if isinstance(err, sspr.NotAllowed):
        return f"not allowed ({err.reason})"
    return f"{type(err).__name__}: {err}"


def main(argv: Optional[List[str]] = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("csv_file")
    parser.add_argument("--admin", required=True, help="the administrator doing the import (for the audit trail)")
    parser.add_argument("--directory", required=True, help="JSON seed of the in-memory directory")
    parser.add_argument("--policy", help="a TOML policy file")
    parser.add_argument("--contacts-db", help="the portal's SQLite database (sspr.backends.SqliteStore)")
    args = parser.parse_args(argv)

    try:
        with open(args.directory, encoding="utf-8") as f:
            directory = sspr.MemoryDirectory.from_json(f.read())
        policy = sspr.Policy()
        if args.policy:
            with open(args.policy, encoding="utf-8") as f:
                policy = sspr.Policy.from_toml(f.read())
    except (OSError, sspr.SsprError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    try:
        store = sspr.backends.SqliteStore(args.contacts_db) if args.contacts_db else sspr.MemoryContactStore()
    except sspr.SsprError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    # The secret key only keys PIN hashes and decoys, which an import does not make.
    engine = sspr.BlockingSspr(
        directory, sspr.Outbox(), secret_key=secrets.token_bytes(32), policy=policy, contacts=store
    )
    try:
        with open(args.csv_file, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames is None or "login" not in reader.fieldnames:
                print("error: the CSV needs a header with a `login` column", file=sys.stderr)
                return 2
            results = import_rows(engine, reader, args.admin)
    except (OSError, csv.Error, UnicodeDecodeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    for r in results:
        print(f"line {r.line}: {r.login or '(empty)'}: {r.detail}", file=out)
    imported = sum(r.ok for r in results)
    print(f"{imported} imported, {len(results) - imported} skipped", file=out)
    return 0 if imported == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
