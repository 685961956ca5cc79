"""The Django app's configuration."""

from django.apps import AppConfig


class SsprConfig(AppConfig):
    """``INSTALLED_APPS = [..., "sspr.contrib.django"]``."""

    name = "sspr.contrib.django"
    label = "sspr"
    verbose_name = "Self-service password reset"
