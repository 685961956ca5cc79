"""The engine a Django site runs on, built from ``settings.SSPR`` once per process (lazily: a worker forked from
a preloading parent builds its own, with its own connections, as sspr's README asks)."""

from __future__ import annotations

import atexit
import json
import os
import pathlib
import threading
from typing import Any, Dict, Optional, Tuple

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

import sspr

#: The tables of the portal's configuration that describe backends: every one ``sspr.backends.from_config`` reads
#: (sspr-backends' ``BackendsConfig``). One left out here is silently ignored, so none may be.
BACKEND_TABLES = (
    "directory", "store", "contacts", "contacts_check", "state", "notifier", "sms", "audit", "audit_queue",
    "password_checks", "bot_challenge",
)

_lock = threading.Lock()
_built: Optional[Tuple[int, sspr.BlockingSspr, Any]] = None


def engine() -> sspr.BlockingSspr:
    """The site's engine (built on first use in this process)."""
    return _build()[0]


def backends() -> Any:
    """The configured backends (``sspr.backends.ConfiguredBackends``): ``outbox`` and ``memory_directory`` are
    there when the configuration uses them (tests, demos)."""
    return _build()[1]


def reset() -> None:
    """Forget the engine (tests that change ``settings.SSPR``)."""
    global _built
    with _lock:
        _built = None


def _build() -> Tuple[sspr.BlockingSspr, Any]:
    global _built
    with _lock:
        if _built is None or _built[0] != os.getpid():
            made, box = _from_settings(_settings())
            _built = (os.getpid(), made, box)
        return _built[1], _built[2]


def _flush_at_exit() -> None:
    """Deliver what is pending and write the audit events still queued before this process ends: a management
    command exits as soon as its work is done, and a web worker when it is stopped; events still in the queue
    would die with it (sspr's README: call ``flush_deliveries()`` then ``flush_audit()`` at shutdown). Only this
    process's own engine (a forked worker inherits the parent's registration, not its engine)."""
    built = _built
    if built is None or built[0] != os.getpid():
        return
    built[1].flush_deliveries()  # deliveries record events too: first
    built[1].flush_audit()  # a sink that cannot be drained raises: atexit reports it on stderr


atexit.register(_flush_at_exit)


def _settings() -> Dict[str, Any]:
    value = getattr(settings, "SSPR", None)
    if not isinstance(value, dict):
        raise ImproperlyConfigured("settings.SSPR must be a dict (see sspr.contrib.django)")
    return value


def _from_settings(conf: Dict[str, Any]) -> Tuple[sspr.BlockingSspr, Any]:
    key = conf.get("secret_key")
    if not key:
        raise ImproperlyConfigured("settings.SSPR['secret_key'] is required: 32+ random bytes as hex")
    tables = conf.get("config", {})
    base = pathlib.Path.cwd()
    if isinstance(tables, (str, pathlib.Path)):
        base = pathlib.Path(tables).parent
        try:
            import tomllib  # Python 3.11+ (Django 5 needs 3.10+: on 3.10, give the tables as a dict)

            tables = tomllib.loads(pathlib.Path(tables).read_text())
        except ImportError:
            raise ImproperlyConfigured("settings.SSPR['config'] as a TOML file needs Python 3.11+") from None
        except (OSError, ValueError) as err:  # tomllib.TOMLDecodeError is a ValueError
            raise ImproperlyConfigured(f"settings.SSPR['config']: {err}") from None
    if not isinstance(tables, dict):
        raise ImproperlyConfigured("settings.SSPR['config'] must be a dict or the path of a TOML file")
    policy_table = conf.get("policy", tables.get("policy", {}))
    try:
        policy = sspr.Policy.from_json(json.dumps(policy_table))
        backends = sspr.backends.from_config(
            {k: v for k, v in tables.items() if k in BACKEND_TABLES}, data_dir=conf.get("data_dir")
        )
    except sspr.SsprError as err:
        raise ImproperlyConfigured(f"settings.SSPR: {err}") from None
    _seed(backends, tables.get("directory", {}), base)
    options: Dict[str, Any] = {
        "contacts": backends.contacts, "store": backends.store, "policy": policy,
        # [password_checks]: the engine runs only the checkers it is given.
        "password_checkers": list(backends.password_checkers),
    }
    if conf.get("state") == "django-cache":
        from sspr.contrib.django.cache_store import DjangoCacheStateStore

        options["store"] = DjangoCacheStateStore(
            conf.get("cache_alias", "default"), allow_evicting_cache=conf.get("allow_evicting_cache", False) is True
        )
    if backends.audit is not None:
        options["audit"] = backends.audit
    if backends.bot_challenge is not None:
        options["bot_challenge"] = backends.bot_challenge
    # Keys retired by a rotation, newest first (README "Rotating the server key").
    previous = conf.get("previous_keys", [])
    try:
        made = sspr.BlockingSspr(
            backends.directory, backends.notifier, secret_key=key, previous_keys=list(previous), **options
        )
    except sspr.ConfigError as err:
        raise ImproperlyConfigured(f"settings.SSPR: {err}") from None
    return made, backends


def _seed(backends: Any, directory: Dict[str, Any], base: pathlib.Path) -> None:
    """A demo directory (``kind = "memory"`` with ``seed_file``) filled from its JSON file, as the portal does:
    ``[{"login", "display_name", "dn", "groups"?, "mail"?, "password"?}]``."""
    seed = directory.get("seed_file")
    if seed is None or backends.memory_directory is None:
        return
    path = pathlib.Path(seed) if pathlib.Path(seed).is_absolute() else base / seed
    try:
        users = json.loads(path.read_text())
        for user in users:
            backends.memory_directory.add(
                user["login"], user["display_name"], user["dn"], user.get("groups", []),
                mail=user.get("mail"), password=user.get("password"),
            )
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ImproperlyConfigured(f"settings.SSPR: the directory's seed_file {path}: {err}") from None
