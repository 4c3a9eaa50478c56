"""The Celery app. Configuration lives in settings (CELERY_* names): JSON only, late acks,
re-queue on worker loss, beat schedule. Tasks are thin: primary keys in, a service call, retries."""

import os

from celery import Celery
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

app = Celery("console")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _bind_request_id(task_id=None, task=None, **kwargs):
    # Log lines from a task carry the id of the request that queued it (sent as a header).
    from console.middleware import bind_request_id

    request_id = getattr(task.request, "request_id", None) if task else None
    bind_request_id(request_id or f"task-{task_id}")
