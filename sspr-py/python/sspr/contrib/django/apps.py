"""The Django app's configuration."""

from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

import sspr
from sspr.contrib._web import languages, networks


class SsprConfig(AppConfig):
    """``INSTALLED_APPS = [..., "sspr.contrib.django"]``."""

    name = "sspr.contrib.django"
    label = "sspr"
    verbose_name = "Self-service password reset"

    def ready(self) -> None:
        check_page_settings(getattr(settings, "SSPR", {}))


#: What ``SSPR["x_frame_options"]`` may say; the pages send ``DENY`` unless it says ``SAMEORIGIN``.
FRAME_OPTIONS = ("DENY", "SAMEORIGIN")


def x_frame_options(conf: Any) -> str:
    """The ``X-Frame-Options`` of the app's pages: ``DENY`` unless ``SSPR["x_frame_options"]`` is ``"SAMEORIGIN"``
    (a site that frames its own pages). Set by the views themselves, so a site without Django's
    ``XFrameOptionsMiddleware`` cannot have the reset pages framed by another site (clickjacking on "set a
    temporary password"), and a site-wide ``X_FRAME_OPTIONS = "SAMEORIGIN"`` does not loosen them by itself."""
    value = conf.get("x_frame_options", "DENY") if isinstance(conf, dict) else "DENY"
    if not isinstance(value, str) or value.upper() not in FRAME_OPTIONS:
        raise ImproperlyConfigured(f"settings.SSPR: x_frame_options must be one of {', '.join(FRAME_OPTIONS)}, not {value!r}")
    return value.upper()


def check_page_settings(conf: Any) -> None:
    """``SSPR["languages"]``, ``SSPR["trusted_proxies"]`` and ``SSPR["x_frame_options"]`` checked when the site starts: the views read them on
    every request, where a typo was a 500 on every page instead of an error naming the setting at start-up. So is
    the cache of ``SSPR["state"] = "django-cache"``: the engine is built at the first request, where a cache that
    evicts was refused on every page of a site that had started (the README says the site refuses to start)."""
    if not isinstance(conf, dict):
        return  # the engine's own check names it when it is built
    if conf.get("state") == "django-cache":
        from sspr.contrib.django.cache_store import check_cache

        check_cache(conf.get("cache_alias", "default"), allow_evicting_cache=conf.get("allow_evicting_cache", False) is True)
    try:
        languages(conf.get("languages"))
        networks(conf.get("trusted_proxies", ()))
        x_frame_options(conf)
    except sspr.SsprError as err:
        raise ImproperlyConfigured(f"settings.SSPR: {err}") from None
