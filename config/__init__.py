import os

# Torch's CPU kernels run on OpenMP (GNU libgomp), which reads this once, when torch is first
# imported. By default its idle threads spin-wait for ~300,000 iterations between parallel regions
# while the process has no more OpenMP threads than CPUs: the engine's own thread is busy in Python
# between operations while its pool spins, so on a small or shared machine the first evaluation in
# a fresh worker ran ~10x slower, until some other thread's torch call grew the pool past the CPU
# count and libgomp throttled the spinning (docs/evaluation.md). Passive threads sleep at once.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .celery import app as celery_app  # noqa: E402

__all__ = ("celery_app",)
