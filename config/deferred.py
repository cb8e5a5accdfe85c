"""Queue a Celery task once the current transaction commits, and never inside a web response.

With a broker, `queue_after_commit` is `transaction.on_commit(task.delay)`: the worker reads
committed rows, and a rollback queues nothing. In embedded mode (CELERY_TASK_ALWAYS_EAGER)
`delay()` would run the task right there, inside the request that asked for it, so a
network lookup or a model call would hold the visitor's page. There the task waits until the
response has gone: Django sends `request_finished` when the server closes the response,
after its last byte went out. It then runs in a thread of its own, not in the server's
thread: a browser sends its next request (the redirect after a POST) on the same kept-alive
connection, which that thread serves. Under the test client, which has no connection to
keep, it runs at once when the response is closed, before the client returns, so tests stay
synchronous. Outside a request (a command, a worker, the shell) an eager task runs at commit.

The thread is not a queue: if the process is stopped before it is done, the work is lost,
which is why the tasks that use this pick up anything left over on their next run.
"""

import logging
import threading
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import connections, transaction

logger = logging.getLogger(__name__)

_after_response: ContextVar[list[Callable[[], Any]] | None] = ContextVar("after_response", default=None)
_served: ContextVar[bool] = ContextVar("served_by_a_server", default=False)


def queue_after_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """`task.delay(*args, **kwargs)` once the transaction commits; in embedded mode, once the response is out."""
    transaction.on_commit(lambda: _dispatch(task, args, kwargs))


def _dispatch(task: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    waiting = _after_response.get()
    if settings.CELERY_TASK_ALWAYS_EAGER and waiting is not None:
        waiting.append(lambda: task.delay(*args, **kwargs))
    else:
        task.delay(*args, **kwargs)


def _request_started(sender: Any, **kwargs: Any) -> None:
    from django.core.handlers.wsgi import WSGIHandler  # not at import: this module loads with the settings

    _after_response.set([])
    _served.set(isinstance(sender, type) and issubclass(sender, WSGIHandler))


def _request_finished(**kwargs: Any) -> None:
    waiting = _after_response.get()
    _after_response.set(None)
    if not waiting:
        return
    if _served.get():
        threading.Thread(target=_run, args=(waiting,), name="after-response").start()
    else:
        _run(waiting, close_connections=False)


def _run(waiting: list[Callable[[], Any]], close_connections: bool = True) -> None:
    try:
        for run in waiting:
            try:
                run()
            except Exception:  # the page has gone out: nobody to tell but the log
                logger.exception("a task run after the response failed")
    finally:
        if close_connections:  # the thread's own database connections
            connections.close_all()


request_started.connect(_request_started, dispatch_uid="config.deferred.started")
request_finished.connect(_request_finished, dispatch_uid="config.deferred.finished")
