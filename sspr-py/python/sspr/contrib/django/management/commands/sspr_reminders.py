"""``manage.py sspr_reminders --admin ID [--ou DN] [--group G] [--stale-after-days N]``: mail a registration
reminder to each enabled user without contacts (or with stale ones), once per the policy's
``reminder_interval_days`` however often it runs (cron it nightly); never to a privileged user."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from sspr.contrib.django.engine import engine
from sspr.contrib.django.management.commands._common import FilteredCommand


class Command(FilteredCommand):
    help = "Send registration reminders to users who have not registered their contacts."

    def handle(self, *args: Any, **options: Any) -> None:
        run = self.over_users(engine().send_registration_reminders, options)
        self.stdout.write(
            f"reminded {len(run.reminded)}, already reminded {run.already_reminded}, without a mailbox "
            f"{run.without_mail}, privileged {run.skipped_privileged}, failed {run.failed}"
        )
        if run.failed:
            raise CommandError(f"{run.failed} reminder(s) failed; they are retried at the next run")
