"""A light live server for the Hugging Face client tests: uvicorn alone (no worker) on the test
database, and a runner for client code in a subprocess (HF_ENDPOINT is read once at import)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import requests

from tests.live import ROOT, database_url, free_port


class HubServer:
    def __init__(self, workdir: Path, extra_env: dict | None = None):
        self.workdir = workdir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.files_dir = workdir / "hub-files"
        self.env = {**os.environ, "DATABASE_URL": database_url(), "VAR_DIR": str(workdir / "var"),
                    "HUB_FILES_DIR": str(self.files_dir), "DJANGO_DEBUG": "1", "PYTHONUNBUFFERED": "1",
                    "API_THROTTLE_USER": "100000/min", "API_THROTTLE_ANON": "100000/min", **(extra_env or {})}
        self.process: subprocess.Popen | None = None
        self.log = workdir / "web.log"

    def start(self) -> "HubServer":
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning"],
            cwd=ROOT, env=self.env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.base_url}/api/models?limit=1", timeout=2).status_code == 200:
                    return self
            except requests.ConnectionError:
                time.sleep(0.3)
        raise RuntimeError("the web server did not start:\n" + self.log.read_text()[-3000:])

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(timeout=10)


def run_client(base_url: str, code: str, *, token: str | None = None, home: Path, env: dict | None = None,
               timeout: float = 240) -> dict:
    """Run `code` with huggingface_hub pointed at the site; it prints one JSON line, returned."""
    home.mkdir(parents=True, exist_ok=True)
    script = "import json, os, sys\n" + textwrap.dedent(code)
    full_env = {**os.environ, "HF_ENDPOINT": base_url, "HF_HOME": str(home), "HF_HUB_DISABLE_TELEMETRY": "1",
                "HF_HUB_DISABLE_PROGRESS_BARS": "1", "HF_HUB_ETAG_TIMEOUT": "30", "TRANSFORMERS_VERBOSITY": "error",
                **({"HF_TOKEN": token} if token else {}), **(env or {})}
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):  # huggingface_hub reads
        full_env.pop(name, None)  # the first two; an evaluation test may have set them in this process
    result = subprocess.run([sys.executable, "-c", script], cwd=home, env=full_env, capture_output=True,
                            text=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"client failed ({result.returncode}):\n{result.stderr[-4000:]}")
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


class RssSampler:
    """The peak resident memory of a process, sampled from /proc every 20 ms in a thread."""

    def __init__(self, pid: int):
        self.pid = pid
        self.baseline = self.read()
        self.peak = self.baseline
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)

    def read(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def _run(self) -> None:
        while not self._stop:
            self.peak = max(self.peak, self.read())
            time.sleep(0.02)

    def __enter__(self) -> "RssSampler":
        self.baseline = self.read()
        self.peak = self.baseline
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop = True
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.baseline) / 1e6


def write_random_file(path: Path, size: int) -> None:
    with path.open("wb") as out:
        left = size
        while left > 0:
            chunk = os.urandom(min(left, 4 * 1024 * 1024))
            out.write(chunk)
            left -= len(chunk)
