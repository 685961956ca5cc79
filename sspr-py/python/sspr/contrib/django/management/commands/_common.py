"""What the management commands share: the admin acting, sspr's errors as command errors, and the
commands over the users of a filter."""

from __future__ import annotations

from typing import Any, Callable, Dict, TypeVar

from django.core.management.base import BaseCommand, CommandError, CommandParser

import sspr


def add_admin(parser: CommandParser) -> None:
    parser.add_argument("--admin", required=True, help="the administrator acting (a member of the policy's admin groups)")


def failure(err: sspr.SsprError) -> CommandError:
    """A command's error from sspr's (never a secret: sspr's messages hold none)."""
    return CommandError(f"{err.code}: {err}")


T = TypeVar("T")


class FilteredCommand(BaseCommand):
    """A command an admin runs over the users a filter covers: ``--admin ID [--ou DN] [--group G]
    [--stale-after-days N]``."""

    def add_arguments(self, parser: CommandParser) -> None:
        add_admin(parser)
        parser.add_argument("--ou", action="append", default=[], help="only users under this OU (repeatable)")
        parser.add_argument("--group", action="append", default=[], help="only members of this group (repeatable)")
        parser.add_argument("--stale-after-days", type=int, default=None, help="contacts older than this are stale")

    def over_users(self, operation: Callable[..., T], options: Dict[str, Any]) -> T:
        """``operation`` (an engine method taking ``admin`` and the filter) on the options' filter."""
        try:
            return operation(admin=options["admin"], ous=options["ou"], groups=options["group"],
                             stale_after_days=options["stale_after_days"])
        except sspr.SsprError as err:
            raise failure(err) from None
