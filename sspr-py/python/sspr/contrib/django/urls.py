"""``path("password/", include("sspr.contrib.django.urls"))``: the pages under the site's prefix."""

from django.urls import path

from sspr.contrib.django import views

app_name = "sspr"

urlpatterns = [
    path("", views.reset, name="reset"),
    path("send/", views.reset_send, name="reset_send"),
    path("verify/", views.reset_verify, name="reset_verify"),
    path("complete/", views.reset_complete, name="reset_complete"),
    path("register/", views.register, name="register"),
    path("register/confirm/", views.register_confirm, name="register_confirm"),
    path("register/sign-out/", views.register_sign_out, name="register_sign_out"),
    path("change/", views.change, name="change"),
]
