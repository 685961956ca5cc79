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


def check_page_settings(conf: Any) -> None:
    """``SSPR["languages"]`` and ``SSPR["trusted_proxies"]`` checked when the site starts: the views read them on
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
    except sspr.SsprError as err:
        raise ImproperlyConfigured(f"settings.SSPR: {err}") from None
