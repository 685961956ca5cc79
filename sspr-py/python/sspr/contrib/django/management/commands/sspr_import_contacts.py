"""``manage.py sspr_import_contacts FILE.csv --admin ID``: enable users and store their contacts from a CSV file
with a header ``login`` and ``email`` and/or ``phone``. Each row is checked whole before anything changes; a bad
row is reported and skipped, never imported halfway (an enabling is undone when the contacts are refused)."""

from __future__ import annotations

import csv
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

import sspr
from sspr.contrib.django.engine import engine
from sspr.contrib.django.management.commands._common import add_admin


class Command(BaseCommand):
    help = "Enable users and import their alternate e-mail / mobile phone from a CSV file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("csv_file")
        add_admin(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        admin, skipped = options["admin"], 0
        try:
            with open(options["csv_file"], newline="", encoding="utf-8") as f:
                rows = list(csv.DictReader(f))
        except OSError as err:
            raise CommandError(str(err)) from None
        for line, row in enumerate(rows, start=2):
            login = (row.get("login") or "").strip()
            email, phone = (row.get("email") or "").strip() or None, (row.get("phone") or "").strip() or None
            try:
                if not email and not phone:
                    raise sspr.InvalidInput("no contact", field="email")
                was_enabled = engine().status(login).enabled
                engine().set_enabled(login, True, admin=admin)
                try:
                    contacts = engine().update_contacts(login, email=email, phone=phone, admin=admin)
                except sspr.SsprError:
                    if not was_enabled:
                        engine().set_enabled(login, False, admin=admin)
                    raise
            except sspr.SsprError as err:
                skipped += 1
                self.stdout.write(f"line {line}: {login or '(empty)'}: skipped: {err.code} ({err})")
                continue
            masked = ", ".join(c.masked for c in (contacts.email, contacts.phone) if c is not None)
            self.stdout.write(f"line {line}: {login}: enabled, contacts {masked}")
        if skipped:
            raise CommandError(f"{skipped} row(s) skipped")
