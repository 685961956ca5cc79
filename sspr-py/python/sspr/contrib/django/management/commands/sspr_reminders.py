"""``manage.py sspr_reminders --admin ID [--ou DN] [--group G] [--stale-after-days N]``: mail a registration
reminder to each enabled user without contacts (or with stale ones), once per the policy's
``reminder_interval_days`` however often it runs (cron it nightly); never to a privileged user."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

import sspr
from sspr.contrib.django.engine import engine
from sspr.contrib.django.management.commands._common import add_admin, add_filter, failure, filter_options


class Command(BaseCommand):
    help = "Send registration reminders to users who have not registered their contacts."

    def add_arguments(self, parser: CommandParser) -> None:
        add_admin(parser)
        add_filter(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            run = engine().send_registration_reminders(admin=options["admin"], **filter_options(options))
        except sspr.SsprError as err:
            raise failure(err) from None
        self.stdout.write(
            f"reminded {len(run.reminded)}, already reminded {run.already_reminded}, without a mailbox "
            f"{run.without_mail}, privileged {run.skipped_privileged}, failed {run.failed}"
        )
        if run.failed:
            raise CommandError(f"{run.failed} reminder(s) failed; they are retried at the next run")
