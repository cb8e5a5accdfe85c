from django.apps import AppConfig


class DigestConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "digest"

    def ready(self) -> None:
        from anymail.signals import tracking

        from digest.tasks import queue_preview
        from digest.webhooks import record_tracking_event
        from subscriptions.signals import interests_changed

        tracking.connect(record_tracking_event, dispatch_uid="digest.record_tracking_event")
        interests_changed.connect(queue_preview, dispatch_uid="digest.queue_preview")
