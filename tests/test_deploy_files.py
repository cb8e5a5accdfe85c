"""The non-Docker production path the README documents: `make worker` and `make beat`, the
systemd units and the Procfile in docs/deploy/. There is no systemd here, so the files are
checked by reading them; the Makefile's rules are run."""

import os
import re
import subprocess

import pytest

from tests.services import BASE_DIR

DEPLOY = BASE_DIR / "docs" / "deploy"


def make(*args, **env):
    environment = {key: value for key, value in os.environ.items() if key != "REDIS_URL"} | env
    return subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", *args],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def unit(name):
    """A unit file's settings, each key with all its values in order (systemd allows repeats)."""
    settings: dict[str, str] = {}
    for line in (DEPLOY / name).read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings[key] = f"{settings[key]}\n{value}" if key in settings else value
    return settings


@pytest.mark.parametrize("target", ["worker", "beat"])
def test_worker_and_beat_refuse_to_start_without_the_shared_broker(target):
    result = make(target)
    assert result.returncode != 0
    assert "REDIS_URL is not set" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_make_beat_creates_the_schedule_before_the_scheduler_starts():
    commands = make("-n", "beat", REDIS_URL="redis://127.0.0.1:6379/0").stdout.splitlines()
    schedule = next(i for i, line in enumerate(commands) if "manage.py setup_schedule" in line)
    beat = next(i for i, line in enumerate(commands) if "celery -A config beat" in line)
    assert schedule < beat


def test_the_systemd_units_run_web_workers_and_one_beat_from_one_settings_file():
    web, worker, beat = (unit(f"paper-digest-{name}.service") for name in ("web", "worker", "beat"))
    assert {web["EnvironmentFile"], worker["EnvironmentFile"], beat["EnvironmentFile"]} == {"/etc/paper-digest/env"}
    assert "gunicorn config.wsgi:application" in web["ExecStart"]
    assert "migrate" in web["ExecStartPre"] and "collectstatic" in web["ExecStartPre"]
    assert "celery -A config worker -Q celery,ingest,mail" in worker["ExecStart"]
    assert "setup_schedule" in beat["ExecStartPre"] and "celery -A config beat" in beat["ExecStart"]


def test_the_procfile_names_every_process_and_the_example_settings_are_all_documented():
    processes = dict(
        line.split(": ", 1) for line in (DEPLOY / "Procfile").read_text().splitlines() if line and line[0] != "#"
    )
    assert set(processes) == {"release", "web", "worker", "beat"}
    assert "setup_schedule" in processes["beat"] and "collectstatic" in processes["release"]
    readme = (BASE_DIR / "README.md").read_text()
    names = re.findall(r"^([A-Z][A-Z0-9_]*)=", (DEPLOY / "env.example").read_text(), re.MULTILINE)
    assert {"REDIS_URL", "DATABASE_URL", "SITE_URL"} <= set(names)
    assert [name for name in names if f"`{name}`" not in readme] == []


def test_the_units_create_the_var_dir_of_the_example_settings_for_their_user():
    """settings creates VAR_DIR at start; under /var/lib the `digest` user could not, so systemd does."""
    var_dir = re.search(r"^VAR_DIR=(.+)$", (DEPLOY / "env.example").read_text(), re.MULTILINE)
    assert var_dir is not None
    for name in ("web", "worker", "beat"):
        settings = unit(f"paper-digest-{name}.service")
        assert f"/var/lib/{settings['StateDirectory']}" == var_dir.group(1), name
        assert settings["User"] == "digest"
