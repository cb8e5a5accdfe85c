from django.apps import AppConfig


class BenchConfig(AppConfig):
    """The benchmark (`manage.py bench`): a development tool beside the apps, never imported by them."""

    name = "bench"
