"""The root URLconf: the composition root, the one module that may name every app."""

from django.contrib import admin
from django.urls import include, path

from config.health import healthz
from digest.webhooks import tracking_urls

urlpatterns = [
    path("admin/", admin.site.urls),
    path("anymail/", include((tracking_urls(), "anymail"))),
    path("healthz", healthz, name="healthz"),
    path("", include("subscriptions.urls")),
]
