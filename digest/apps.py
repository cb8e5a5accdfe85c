from django.apps import AppConfig


class DigestConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "digest"

    def ready(self) -> None:
        from anymail.signals import tracking

        from digest.preview import recent_matches
        from digest.webhooks import record_tracking_event
        from subscriptions.signals import matches_wanted

        tracking.connect(record_tracking_event, dispatch_uid="digest.record_tracking_event")
        matches_wanted.connect(recent_matches, dispatch_uid="digest.recent_matches")
