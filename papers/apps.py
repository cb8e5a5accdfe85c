from django.apps import AppConfig


class PapersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "papers"

    def ready(self) -> None:
        from config import health
        from papers.health import check_ingest

        health.register("ingest", check_ingest)
