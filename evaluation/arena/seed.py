"""The arena's demo state. An arena needs two contenders, and demo battles must be real
generations: nothing here invents a model or a vote. The fine-tuning app publishes a LoRA of
the demo model as a second runnable model (`make demo-finetune`); until then the arena page
explains what is missing."""
from __future__ import annotations

from .services import contenders


def seed_arena() -> str:
    names = [m.repo_id for m in contenders()]
    if len(names) >= 2:
        return f"arena ready: {len(names)} runnable models ({', '.join(names)}); no battles seeded (only real ones count)"
    return (f"arena waiting: {len(names)} runnable model(s); add a second one "
            "(`make demo-finetune`, or `python manage.py runtime add`)")
