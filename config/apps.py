from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The project's own configuration as an app, so that its system checks run with `manage.py check`."""

    name = "config"
    verbose_name = "Site configuration"

    def ready(self) -> None:
        from config import checks  # noqa: F401 (registers them)
