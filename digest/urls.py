from django.urls import path

from digest.health import healthz

app_name = "digest"
urlpatterns = [
    path("healthz", healthz, name="healthz"),
]
