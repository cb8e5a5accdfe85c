"""The root URLconf: the composition root, the one module that may name every app."""

from django.contrib import admin
from django.urls import include, path

from config.admin import ThrottledLoginForm
from config.health import healthz

admin.site.login_form = ThrottledLoginForm

urlpatterns = [
    path("admin/", admin.site.urls),
    path("anymail/", include("digest.webhook_urls")),
    path("healthz", healthz, name="healthz"),
    path("", include("digest.urls")),
    path("", include("subscriptions.urls")),
]
