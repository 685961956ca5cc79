"""Nightly registration job: write a CSV report of who has registered for self-service password
reset, and mail a reminder to those who have not (or whose contacts are stale).

    python examples/python/nightly_registration.py --config /etc/sspr/portal.toml \
        --data-dir /var/lib/sspr --report /var/lib/sspr/registration.csv --remind

It reads the portal's own TOML file: the backend tables (``directory``, ``store``, ``contacts``,
``state``, ``notifier``, ``sms``, ``audit``: the same directory, contact store and mail server as
the portal) and ``[policy]`` (``registration_url``, the page the reminders link to;
``reminder_interval_days``; ``reconfirm_after_days``). Other portal settings are ignored. It
uses the portal's secret key (``<data-dir>/secret.key``, or ``secret_key_file``), so that the
blocks the report shows and the reminder marks are the portal's own: run it on the portal's host
or give it a copy of the key. A demo directory (``[directory] kind = "demo"``) is filled from
its ``seed_file``.

``--ou DN`` and ``--group NAME`` (each repeatable) narrow the users covered; ``--stale-after-days``
sets when contacts count as stale. The report has one row per user (contacts masked; a cell a spreadsheet would
read as a formula, such as a display name starting with ``=``, is written with a leading ``'``). With
``--remind``, each enabled user without contacts (or with stale ones) gets one reminder at their
directory mailbox, at most once per ``reminder_interval_days`` however often the job runs;
privileged users never do. Exit status: 0 done, 1 some reminders failed (they are retried at the
next run), 2 a usage or configuration error.

Python 3.11+ reads TOML itself; on 3.9 and 3.10, ``pip install tomli`` first.

Cron, every night at 02:30:

    30 2 * * *  sspr  python /opt/sspr/nightly_registration.py --config /etc/sspr/portal.toml \
                 --data-dir /var/lib/sspr --report /var/lib/sspr/registration.csv --remind
"""

from __future__ import annotations

import argparse
import csv
import json
import pathlib
import sys
from typing import Any, Dict, List, Optional, Sequence, TextIO

import sspr

if sys.version_info >= (3, 11):
    import tomllib
else:  # sspr supports Python 3.9+; before 3.11 the same parser is the PyPI package tomli
    import tomli as tomllib

#: The portal's tables that describe backends (sspr-backends' configuration schema).
BACKEND_TABLES = ("directory", "store", "contacts", "state", "notifier", "sms", "audit")

COLUMNS = [
    "login", "display_name", "enabled", "eligible", "privileged", "account_disabled",
    "email", "phone", "directory_mail", "contacts_confirmed_at", "last_reset_at", "blocked_until",
    "without_contacts", "stale", "never_used", "blocked",
]


class UsageError(Exception):
    """A bad argument or configuration: exit status 2."""


def _when(value: Any) -> str:
    return value.isoformat() if value is not None else ""


#: What makes a spreadsheet read a cell as a formula (OWASP's list for CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    """`text` as a cell no spreadsheet runs: logins and display names are the directory's, and a display name is
    often the user's own to write, so `=HYPERLINK(...)` there would run in the admin's spreadsheet."""
    return "'" + text if text.startswith(FORMULA_START) else text


def write_report(report: sspr.EnrollmentReport, out: TextIO) -> None:
    """One CSV row per user; contacts masked, times in ISO 8601 (UTC); no cell starts like a formula."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for u in report.users:
        writer.writerow([
            _cell(u.login), _cell(u.display_name), u.enabled, u.eligible, u.privileged, u.account_disabled,
            _cell(u.email_masked or ""), _cell(u.phone_masked or ""), u.has_directory_mail,
            _when(u.contacts_confirmed_at), _when(u.last_reset_at), _when(u.blocked_until),
            u.without_contacts, u.stale, u.never_used, u.blocked,
        ])


def summary(report: sspr.EnrollmentReport) -> str:
    c = report.counts
    text = (f"{c.users} users: {c.enabled} enabled, {c.registered} registered, {c.without_contacts} without contacts, "
            f"{c.stale} with stale contacts (>{report.stale_after_days} days), {c.never_used} never used, "
            f"{c.blocked} blocked, {c.privileged} privileged, {c.without_mail} without a mailbox")
    return text + (" (the directory listing was cut short)" if report.truncated else "")


def load_engine(config_path: pathlib.Path, data_dir: pathlib.Path) -> tuple[sspr.BlockingSspr, Optional[sspr.Outbox]]:
    """The engine on the portal's backends, policy and secret key."""
    try:
        config = tomllib.loads(config_path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise UsageError(f"{config_path}: {e}") from e
    backends_config: Dict[str, Any] = {k: v for k, v in config.items() if k in BACKEND_TABLES}
    seed: Optional[str] = None
    directory_table = backends_config.get("directory", {})
    if directory_table.get("kind", "memory") in ("memory", "demo") and "seed_file" in directory_table:
        seed = str(directory_table["seed_file"])
    try:
        policy = sspr.Policy.from_json(json.dumps(config.get("policy", {})))
        b = sspr.backends.from_config(backends_config, data_dir=str(data_dir))
    except sspr.SsprError as e:
        raise UsageError(f"{config_path}: {e}") from e
    if seed is not None and b.memory_directory is not None:
        seed_path = pathlib.Path(seed)
        seed_path = seed_path if seed_path.is_absolute() else config_path.parent / seed_path
        for user in json.loads(seed_path.read_text()):
            b.memory_directory.add(
                user["login"], user["display_name"], user["dn"], user.get("groups", []),
                mail=user.get("mail"), **user.get("state", {}),
            )
    key_file = pathlib.Path(config.get("secret_key_file") or data_dir / "secret.key")
    try:
        key = key_file.read_text().strip()
    except OSError as e:
        raise UsageError(f"the portal's secret key: {e}") from e
    engine = sspr.BlockingSspr(
        b.directory, b.notifier, secret_key=key, contacts=b.contacts, store=b.store, policy=policy,
        **({"audit": b.audit} if b.audit is not None else {}),
    )
    return engine, b.outbox


def run(argv: Sequence[str], out: TextIO = sys.stdout) -> int:
    engines: List[sspr.BlockingSspr] = []
    try:
        return _run(argv, out, engines)
    finally:
        # The process ends right after: what is still queued (deliveries, then the audit events they and the
        # report recorded) would die with it. sspr's README: flush_deliveries() then flush_audit() at shutdown.
        for engine in engines:
            engine.flush_deliveries()
            engine.flush_audit()


def _run(argv: Sequence[str], out: TextIO, engines: List[sspr.BlockingSspr]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, type=pathlib.Path, help="the portal's TOML file")
    parser.add_argument("--data-dir", type=pathlib.Path, default=pathlib.Path(".sspr-portal"),
                        help="the portal's data directory (secret key, SQLite file); default .sspr-portal")
    parser.add_argument("--report", required=True, type=pathlib.Path, help="where to write the CSV report")
    parser.add_argument("--admin", default="nightly-registration", help="who acts, in the audit trail")
    parser.add_argument("--ou", action="append", default=[], help="only users in this OU (DN); repeatable")
    parser.add_argument("--group", action="append", default=[], help="only members of this group; repeatable")
    parser.add_argument("--stale-after-days", type=int, default=None,
                        help="contacts older than this are stale (default: the policy's reconfirm_after_days, or 365)")
    parser.add_argument("--remind", action="store_true", help="mail the reminders (without it: report only)")
    args = parser.parse_args(argv)
    try:
        engine, outbox = load_engine(args.config, args.data_dir)
        engines.append(engine)
        filter_args: Dict[str, Any] = {"ous": args.ou, "groups": args.group, "stale_after_days": args.stale_after_days}
        report = engine.enrollment_report(admin=args.admin, **filter_args)
    except (UsageError, sspr.InvalidInput, sspr.ConfigError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    # Written next to the target, then moved: a reader never sees half a report.
    partial = args.report.with_name(args.report.name + ".part")
    with partial.open("w", newline="") as f:
        write_report(report, f)
    partial.replace(args.report)
    print(f"report: {args.report}: {summary(report)}", file=out)
    if not args.remind:
        return 0
    try:
        done = engine.send_registration_reminders(admin=args.admin, **filter_args)
    except sspr.ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    engine.flush_deliveries()
    for login in done.reminded:
        print(f"reminded: {login}", file=out)
    print(f"reminders: {len(done.reminded)} sent, {done.already_reminded} already reminded, "
          f"{done.without_mail} without a mailbox, {done.skipped_privileged} privileged (never reminded), "
          f"{done.skipped_ineligible} cannot register, {done.failed} failed", file=out)
    if outbox is not None:
        # The development outbox: nothing left this machine. Show what would have.
        for n in outbox.messages():
            if n.kind == "registration_reminder":
                print(f"outbox (not sent): to {n.to}: {n.subject}", file=out)
    return 1 if done.failed else 0


def main() -> None:
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
