"""Self-service password reset as a Django app.

    # settings.py
    INSTALLED_APPS = [..., "sspr.contrib.django"]
    SSPR = {
        "secret_key": "64 hex digits, the same on every instance",
        "previous_keys": [],                 # keys retired by a rotation, newest first (README)
        "config": BASE_DIR / "sspr.toml",   # or a dict: the backend tables of sspr.backends.from_config
        "policy": {"pin_length": 8},         # sspr.Policy's fields
        "state": "django-cache",            # optional: flows and counters in Django's cache (no Redis needed)
    }
    # urls.py
    path("password/", include("sspr.contrib.django.urls"))

Pages (templates under ``sspr/``, which a site overrides by name): the anonymous reset (``sspr:reset``), the
contact registration after a sign-in (``sspr:register``), and the change of a known password (``sspr:change``).
They use Django's CSRF protection and sessions: the flow id is kept in the session (never in a page or URL), the
session key is cycled when a reset starts and at sign-in. Management commands: ``sspr_enable``,
``sspr_import_contacts``, ``sspr_report``, ``sspr_reminders``.
"""
