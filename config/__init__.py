from . import deferred  # noqa: F401  (connects its request signals before the first request)
from .celery import app as celery_app

__all__ = ("celery_app",)
