"""A member hears that their evaluation ended (a notification, which may bring an e-mail): runs
take minutes to hours, and nobody watches the page that long."""
from __future__ import annotations

from community.models import Notification
from community.notify import notify_member

from .models import EvaluationRun

KINDS = {EvaluationRun.Status.SUCCEEDED: Notification.Kind.EVALUATION_DONE,
         EvaluationRun.Status.FAILED: Notification.Kind.EVALUATION_FAILED}


def run_ended(run_id: int) -> None:
    """Notify the run's member that it succeeded or failed (a cancelled run was their own doing)."""
    run = EvaluationRun.objects.select_related("model", "suite__dataset").filter(pk=run_id).first()
    if run is None or run.status not in KINDS:
        return
    notify_member(recipient_id=run.user_id, kind=KINDS[run.status], link=run.get_absolute_url(),
                  subject=f"{run.model.repo_id} · {run.suite.dataset.repo_id}")
