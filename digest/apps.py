from django.apps import AppConfig


class DigestConfig(AppConfig):
    default_auto_field = 'django.db.models.BigAutoField'
    name = 'digest'
