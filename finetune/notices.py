"""A member hears that their fine-tuning job ended (a notification, which may bring an e-mail):
training takes hours, and nobody watches the page that long."""
from __future__ import annotations

from community.models import Notification
from community.notify import notify_member

from .models import FineTuneJob, Status

KINDS = {Status.SUCCEEDED: Notification.Kind.FINETUNE_DONE, Status.FAILED: Notification.Kind.FINETUNE_FAILED}


def job_ended(job_id: int) -> None:
    """Notify the job's member that it succeeded or failed (a cancelled job was their own doing)."""
    job = FineTuneJob.objects.select_related("user", "output_model").filter(pk=job_id).first()
    if job is None or job.status not in KINDS:
        return
    notify_member(recipient_id=job.user_id, kind=KINDS[job.status], link=job.get_absolute_url(),
                  subject=job.output_repo_id)
