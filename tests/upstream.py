"""A real OpenAI-compatible inference server for the tests: `transformers serve` (transformers'
own server; its `serving` extras are in requirements-dev.txt) serving the demo model from the
converted model cache, on loopback, offline."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.live import free_port

SERVED_NAME = "SmolLM2-135M-Instruct"


class TransformersServe:
    def __init__(self, model_dir: Path, workdir: Path):
        self.model_dir = model_dir
        self.workdir = workdir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> "TransformersServe":
        # The request's `model` must equal the name it was started with: serve a link so the name is short.
        link = self.workdir / SERVED_NAME
        if not link.exists():
            link.symlink_to(self.model_dir)
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
        cli = Path(sys.executable).with_name("transformers")
        log = (self.workdir / f"serve-{self.port}.log").open("ab")
        self.process = subprocess.Popen(
            [str(cli), "serve", SERVED_NAME, "--host", "127.0.0.1", "--port", str(self.port), "--device", "cpu"],
            cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("transformers serve exited:\n" + (self.workdir / f"serve-{self.port}.log").read_text()[-3000:])
            try:
                if requests.get(f"{self.base_url}/health", timeout=2).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        raise RuntimeError("transformers serve did not come up")

    def kill(self) -> None:
        """SIGKILL, as a crashed or lost server."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
