"""``manage.py sspr_report --admin ID [--ou DN] [--group G] [--stale-after-days N]``: who has registered for
self-service reset, as CSV on standard output (contacts masked)."""

from __future__ import annotations

import csv
from typing import Any

from sspr.contrib.django.engine import engine
from sspr.contrib.django.management.commands._common import FilteredCommand

COLUMNS = ["login", "display_name", "enabled", "eligible", "privileged", "account_disabled", "email_masked",
           "phone_masked", "contacts_confirmed_at"]


class Command(FilteredCommand):
    help = "Write the registration report (one row per user, contacts masked) as CSV."

    def handle(self, *args: Any, **options: Any) -> None:
        report = self.over_users(engine().enrollment_report, options)
        out = csv.writer(self.stdout)
        out.writerow(COLUMNS)
        for user in report.users:
            out.writerow(["" if getattr(user, c) is None else getattr(user, c) for c in COLUMNS])
        if report.truncated:
            self.stderr.write("the report is truncated: narrow it with --ou or --group")
