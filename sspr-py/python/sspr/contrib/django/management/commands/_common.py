"""What the management commands share: the engine, the admin acting, and the users' filter."""

from __future__ import annotations

from typing import Any, Dict

from django.core.management.base import CommandError, CommandParser

import sspr


def add_admin(parser: CommandParser) -> None:
    parser.add_argument("--admin", required=True, help="the administrator acting (a member of the policy's admin groups)")


def add_filter(parser: CommandParser) -> None:
    parser.add_argument("--ou", action="append", default=[], help="only users under this OU (repeatable)")
    parser.add_argument("--group", action="append", default=[], help="only members of this group (repeatable)")
    parser.add_argument("--stale-after-days", type=int, default=None, help="contacts older than this are stale")


def filter_options(options: Dict[str, Any]) -> Dict[str, Any]:
    return {"ous": options["ou"], "groups": options["group"], "stale_after_days": options["stale_after_days"]}


def failure(err: sspr.SsprError) -> CommandError:
    """A command's error from sspr's (never a secret: sspr's messages hold none)."""
    return CommandError(f"{err.code}: {err}")
