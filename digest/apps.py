from django.apps import AppConfig


class DigestConfig(AppConfig):
    default_auto_field = 'django.db.models.BigAutoField'
    name = 'digest'

    def ready(self):
        from anymail.signals import tracking

        from digest.webhooks import record_tracking_event

        tracking.connect(record_tracking_event, dispatch_uid="digest.record_tracking_event")
