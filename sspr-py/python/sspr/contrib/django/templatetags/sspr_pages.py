"""``{% load sspr_pages %}{% page_text "reset-title" %}``: a message of sspr's pages catalogue (the portal's words,
in six languages) in the page's language, the ``lang`` the views put in every template's context. Arguments are
the message's variables (``{% page_text "signed-in-as" name=login %}``). The text is escaped like any other."""

from __future__ import annotations

from typing import Any

from django import template

from sspr.contrib._web import text

register = template.Library()


@register.simple_tag(takes_context=True)
def page_text(context: template.Context, id: str, **args: Any) -> str:
    """Message ``id`` in the context's ``lang`` (English when a template is rendered without one)."""
    return text(context.get("lang") or "en", id, **args)
