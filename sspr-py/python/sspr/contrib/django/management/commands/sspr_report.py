"""``manage.py sspr_report --admin ID [--ou DN] [--group G] [--stale-after-days N]``: who has registered for
self-service reset, as CSV on standard output (contacts masked)."""

from __future__ import annotations

import csv
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

import sspr
from sspr.contrib.django.engine import engine
from sspr.contrib.django.management.commands._common import add_admin, add_filter, failure, filter_options

COLUMNS = ["login", "display_name", "enabled", "eligible", "privileged", "account_disabled", "email_masked",
           "phone_masked", "contacts_confirmed_at"]


class Command(BaseCommand):
    help = "Write the registration report (one row per user, contacts masked) as CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        add_admin(parser)
        add_filter(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = engine().enrollment_report(admin=options["admin"], **filter_options(options))
        except sspr.SsprError as err:
            raise failure(err) from None
        out = csv.writer(self.stdout)
        out.writerow(COLUMNS)
        for user in report.users:
            out.writerow(["" if getattr(user, c) is None else getattr(user, c) for c in COLUMNS])
        if report.truncated:
            self.stderr.write("the report is truncated: narrow it with --ou or --group")
