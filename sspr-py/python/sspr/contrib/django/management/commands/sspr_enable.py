"""``manage.py sspr_enable LOGIN... --admin ID [--disable]``: turn self-service reset on (or off) for users."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

import sspr
from sspr.contrib.django.engine import engine
from sspr.contrib.django.management.commands._common import add_admin, failure


class Command(BaseCommand):
    help = "Enable (or with --disable, disable) self-service password reset for the given users."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("logins", nargs="+")
        add_admin(parser)
        parser.add_argument("--disable", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        enabled = not options["disable"]
        for login in options["logins"]:
            try:
                engine().set_enabled(login, enabled, admin=options["admin"])
            except sspr.SsprError as err:
                raise failure(err) from None
            self.stdout.write(f"{login}: {'enabled' if enabled else 'disabled'}")
