from django.urls import path

from digest.health import healthz
from digest.views import feedback_view

app_name = "digest"
urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("feedback/<str:token>/", feedback_view, name="feedback"),
]
