"""`python manage.py demo_finetune`: the whole loop on the demo data, in a few minutes on a CPU.
Trains a LoRA of the demo model on the demo dataset's sentence pairs in this process (no worker
needed), publishes it as `<moderator>/smollm2-135m-bilingual-lora`, so the arena has a second
real contender. Idempotent: a published model of that name is left as it is."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from finetune import runner, services
from finetune.models import FineTuneJob
from models_hub import demo_dataset
from models_hub.models import Resource
from models_hub.seed import DATASET, SMOLLM_REPO
from models_hub.services import publish_resource, save_resource

OUTPUT_NAME = "smollm2-135m-bilingual-lora"
DEMO_PARAMS = {"max_steps": 40, "batch_size": 8, "max_seq_len": 64, "learning_rate": 1e-3, "lora_r": 8,
               "lora_alpha": 16, "lora_dropout": 0.05, "seed": 42}


class Command(BaseCommand):
    help = "Fine-tune the demo model on the demo dataset (LoRA, CPU) and publish it."

    def add_arguments(self, parser):
        parser.add_argument("--steps", type=int, default=DEMO_PARAMS["max_steps"])
        parser.add_argument("--user", default="", help="who trains it (default: the first superuser)")

    def handle(self, *args, steps: int, user: str, **options):
        users = get_user_model().objects
        owner = users.filter(username=user).first() if user else users.filter(is_superuser=True).order_by("pk").first()
        if owner is None:
            raise CommandError("No such user; run `python manage.py seed_demo` first.")
        existing = Resource.objects.filter(kind=Resource.Kind.MODEL, owner=owner.username, name=OUTPUT_NAME).first()
        if existing is not None and existing.is_published:
            self.stdout.write(f"{existing.repo_id} is already published.")
            return
        dataset = Resource.objects.filter(kind=DATASET["kind"], owner=DATASET["owner"], name=DATASET["name"]).first()
        if dataset is None or not Resource.objects.filter(repo_id=SMOLLM_REPO, runtime__enabled=True).exists():
            raise CommandError("The demo model and dataset are missing; run `python manage.py seed_demo` first.")
        if "train_format:" not in dataset.card:  # seeded before the card declared its training format
            save_resource(user=None, data={"card": demo_dataset.card()}, resource=dataset)
        job = FineTuneJob.objects.filter(user=owner, output_name=OUTPUT_NAME, status="succeeded").first()
        if job is None:
            job = services.submit_finetune(user=owner, base_model=SMOLLM_REPO, dataset=dataset.repo_id,
                                           params={**DEMO_PARAMS, "max_steps": steps}, output_name=OUTPUT_NAME)
            self.stdout.write(f"Training job {job.pk}: {steps} steps of LoRA on {dataset.repo_id} …")
            runner.execute(job_id=job.pk, worker="demo_finetune")
            job.refresh_from_db()
        if job.status != "succeeded":
            raise CommandError(f"Job {job.pk} {job.status}: {job.error}")
        model = publish_resource(user=owner, resource=job.output_model)
        self.stdout.write(self.style.SUCCESS(
            f"{model.repo_id}: final loss {job.loss:.3f} after {job.step} steps "
            f"({job.train_seconds or 0:.0f} s, {job.tokens_per_s or 0:.0f} tokens/s); published and runnable."))
