from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    """The ranking evaluation (`manage.py evaluate_ranking`): a development tool beside the apps."""

    name = "evaluation"
