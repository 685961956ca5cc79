"""A development outbox page, for demos and browser tests: the notices the configured ``outbox`` notifier "sent"
(PINs included). It answers 404 unless ``settings.DEBUG`` is on and the notifier is the outbox; never route it in
production. ``urlpatterns += [path("password/dev/", include("sspr.contrib.django.dev_urls"))]``."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_deny

from sspr.contrib.django.engine import backends

app_name = "sspr_dev"


@xframe_options_deny
@never_cache
def outbox(request: HttpRequest) -> HttpResponse:
    """Every notice in the outbox, newest first (``?to=`` narrows to one address)."""
    box = backends().outbox
    if not settings.DEBUG or box is None:
        raise Http404("no development outbox")
    to = request.GET.get("to")
    messages = list(reversed(box.messages_to(to) if to else box.messages()))
    return render(request, "sspr/dev_outbox.html", {"messages": messages})


urlpatterns = [path("outbox/", outbox, name="outbox")]
