"""Settings in each mode, read by a fresh interpreter with only the environment changed."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.test_settings import redis_url_for_worker

ROOT = Path(__file__).resolve().parent.parent
STRONG_SECRET = "x7Gq-Zk2vP9rLm4Tn8Wb6Yc1Hd5Jf3Sa0Ue-Ri7Oo2Ip9Aq4Ws6Ed8Rf1Tg3Yh5"
PRINT = ("import django, json; django.setup(); from django.conf import settings as s; "
         "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], 'broker': s.CELERY_BROKER_URL, "
         "'cache': s.CACHES['default']['BACKEND'], 'debug': s.DEBUG, "
         "'init': s.DATABASES['default'].get('OPTIONS', {}).get('init_command', '')}))")


def run(code_or_args, env_overrides: dict, *, module_args=None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_DEBUG", "DJANGO_SECRET_KEY",
                        "DJANGO_ALLOW_ASYNC_UNSAFE", "OMP_WAIT_POLICY")}
    env.update(env_overrides, DJANGO_SETTINGS_MODULE="config.settings")
    args = [sys.executable, *(module_args or ["-c", code_or_args])]
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def settings_in(env: dict) -> dict:
    result = run(PRINT, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_embedded_mode_needs_no_server(tmp_path):
    found = settings_in({"VAR_DIR": str(tmp_path), "DJANGO_DEBUG": "1"})
    assert found["db"] == "django.db.backends.sqlite3"
    assert "journal_mode=WAL" in found["init"]
    assert found["broker"] == "filesystem://"
    assert found["cache"].endswith("LocMemCache")


def test_every_migration_runs_in_embedded_mode(tmp_path):
    """`make run` starts on SQLite: a migration with PostgreSQL-only SQL would stop it cold."""
    result = run(None, {"VAR_DIR": str(tmp_path), "DJANGO_DEBUG": "1"},
                 module_args=["manage.py", "migrate", "--noinput", "-v0"])
    assert result.returncode == 0, result.stderr[-2000:]


def test_server_mode_uses_postgres_and_redis(tmp_path):
    found = settings_in({"VAR_DIR": str(tmp_path), "DATABASE_URL": "postgres://u@db:5432/x",
                         "REDIS_URL": "redis://cache:6379/2", "DJANGO_DEBUG": "1"})
    assert found["db"] == "django.db.backends.postgresql"
    assert found["broker"] == "redis://cache:6379/2"
    assert found["cache"].endswith("FailOpenRedisCache")


POOL = ("import django, json; django.setup(); from django.conf import settings as s; "
        "d = s.DATABASES['default']; print(json.dumps({'pool': d.get('OPTIONS', {}).get('pool'), "
        "'max_age': d['CONN_MAX_AGE']}))")
SERVER = {"DATABASE_URL": "postgres://u@db:5432/x", "DJANGO_DEBUG": "1"}


def test_server_mode_pools_connections_unless_told_otherwise(tmp_path):
    def found(extra: dict) -> dict:
        result = run(POOL, {"VAR_DIR": str(tmp_path), **SERVER, **extra})
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])

    assert found({}) == {"pool": {"min_size": 2, "max_size": 20, "timeout": 10.0}, "max_age": 0}
    assert found({"DATABASE_POOL_MAX_SIZE": "30"})["pool"]["max_size"] == 30
    assert found({"DATABASE_POOL": "0"})["pool"] is None
    assert found({"DATABASE_CONN_MAX_AGE": "60"}) == {"pool": None, "max_age": 60}  # the other way to reuse
    both = run(POOL, {"VAR_DIR": str(tmp_path), **SERVER, "DATABASE_POOL": "1", "DATABASE_CONN_MAX_AGE": "60"})
    assert both.returncode != 0 and "exclude each other" in both.stderr


def test_production_is_the_default_and_fails_closed_without_a_secret(tmp_path):
    result = run(PRINT, {"VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_production_with_a_secret_runs_without_debug(tmp_path):
    found = settings_in({"VAR_DIR": str(tmp_path), "DJANGO_SECRET_KEY": STRONG_SECRET})
    assert found["debug"] is False


def test_production_without_secret_key_refuses_to_start(tmp_path):
    result = run(PRINT, {"VAR_DIR": str(tmp_path), "DJANGO_DEBUG": "0"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_production_settings_pass_check_deploy(tmp_path):
    result = run(None, {"VAR_DIR": str(tmp_path), "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": STRONG_SECRET,
                        "DJANGO_ALLOWED_HOSTS": "llm.example.com"},
                 module_args=["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("missing", ["SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE"])
def test_check_deploy_catches_weakened_settings(tmp_path, missing):
    env = {"VAR_DIR": str(tmp_path), "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": STRONG_SECRET,
           "DJANGO_ALLOWED_HOSTS": "llm.example.com"}
    code = (f"import sys; sys.argv=['manage.py','check','--deploy','--fail-level','WARNING']; "
            f"import django; from django.conf import settings; import config.settings as cs; "
            f"cs.{missing} = False; from django.core.management import execute_from_command_line; "
            f"execute_from_command_line(sys.argv)")
    result = run(code, env)
    assert result.returncode != 0


WAIT_POLICY = ("import os, sys, config; "
               "print(os.environ.get('OMP_WAIT_POLICY'), 'torch' in sys.modules)")


def test_processes_set_a_passive_openmp_wait_policy_before_torch_loads():
    result = run(WAIT_POLICY, {})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["PASSIVE", "False"]


def test_an_explicit_openmp_wait_policy_is_kept():
    result = run(WAIT_POLICY, {"OMP_WAIT_POLICY": "ACTIVE"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ACTIVE", "False"]


@pytest.mark.parametrize("url,worker,expected", [
    ("redis://127.0.0.1:6379/0", "gw0", "redis://127.0.0.1:6379/0"),
    ("redis://127.0.0.1:6379/0", "gw1", "redis://127.0.0.1:6379/1"),
    ("redis://:secret@cache:6380/5", "gw2", "redis://:secret@cache:6380/7"),
    ("rediss://cache:6379", "gw1", "rediss://cache:6379/1"),
])
def test_each_test_worker_gets_a_redis_database_of_its_own(url, worker, expected):
    assert redis_url_for_worker(url, worker) == expected


def test_a_redis_url_without_a_database_index_to_offset_is_refused():
    with pytest.raises(ValueError, match="REDIS_URL"):
        redis_url_for_worker("unix:///run/redis.sock", "gw1")


@pytest.mark.parametrize("name,value,refusal", [
    ("PLAYGROUND_ENGINE_PROCESS", "yes", "PLAYGROUND_ENGINE_PROCESS must be on or off"),
    ("PLAYGROUND_DECODE_THREADS", "0", "PLAYGROUND_DECODE_THREADS must be 1 or more"),
    ("PLAYGROUND_DECODE_THREADS", "two", "PLAYGROUND_DECODE_THREADS is not valid"),
    ("PLAYGROUND_STREAM_MAX_S", "ten minutes", "PLAYGROUND_STREAM_MAX_S is not valid"),
])
def test_a_setting_out_of_range_refuses_to_start(tmp_path, name, value, refusal):
    result = run("import django; django.setup()", {"VAR_DIR": str(tmp_path), "DJANGO_DEBUG": "1", name: value})
    assert result.returncode != 0 and refusal in result.stderr
