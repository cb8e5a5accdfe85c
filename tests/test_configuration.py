"""An operator configures the service through environment variables, all documented."""

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

ROOT = Path(__file__).resolve().parent.parent


def manage(*args, **env):
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "PRODUCTION", "DJANGO_ALLOW_ASYNC_UNSAFE", "ANYMAIL_WEBHOOK_SECRET"}
    }
    environment.update(env, VAR_DIR=env.get("VAR_DIR", "/tmp/paper-digest-config-test"))
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", PRODUCTION="1")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


STRONG_SECRET_KEY = "x" * 30 + "-a-real-looking-secret-key-0123456789"
STRONG_WEBHOOK_SECRET = "postmark:Vq3r9-kT2pXw8LmZ4sN7yB1c"


def test_production_refuses_the_example_secret_key():
    result = manage("check", PRODUCTION="1", SECRET_KEY="change-me-to-a-long-random-string")
    assert result.returncode != 0
    assert "SECRET_KEY is too weak" in result.stderr


@pytest.mark.parametrize(
    "secret, message",
    [
        (None, "ANYMAIL_WEBHOOK_SECRET is not set"),
        ("webhook:change-me-too", "ANYMAIL_WEBHOOK_SECRET is too weak"),
        ("postmark:hunter2", "ANYMAIL_WEBHOOK_SECRET is too weak"),
        ("a-long-secret-without-any-user-part", "must be user:password"),
    ],
)
def test_production_refuses_to_start_without_a_strong_webhook_secret(secret, message):
    """Anyone who can post to the tracking webhook can mark readers bounced."""
    extra = {"ANYMAIL_WEBHOOK_SECRET": secret} if secret else {}
    result = manage("check", PRODUCTION="1", SECRET_KEY=STRONG_SECRET_KEY, ANYMAIL_ESP="postmark", **extra)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_settings_pass_the_deploy_check():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        PRODUCTION="1",
        SECRET_KEY=STRONG_SECRET_KEY,
        ANYMAIL_WEBHOOK_SECRET=STRONG_WEBHOOK_SECRET,
        ALLOWED_HOSTS="digest.example.org",
        SITE_URL="https://digest.example.org",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_health_checks_over_plain_http_are_not_redirected_in_production(settings_from):
    production = settings_from(
        PRODUCTION="1", SECRET_KEY=STRONG_SECRET_KEY, ANYMAIL_WEBHOOK_SECRET=STRONG_WEBHOOK_SECRET
    )
    assert production["SECURE_SSL_REDIRECT"] is True
    assert [re.match(pattern, "healthz") is not None for pattern in production["SECURE_REDIRECT_EXEMPT"]] == [True]


def test_the_deploy_check_names_public_addresses_left_at_their_embedded_defaults():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        PRODUCTION="1",
        SECRET_KEY=STRONG_SECRET_KEY,
        ANYMAIL_WEBHOOK_SECRET=STRONG_WEBHOOK_SECRET,
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    assert result.returncode != 0
    assert "(config.W001) SITE_URL is 'http://localhost:8000'" in result.stderr
    assert "(config.W002) ALLOWED_HOSTS names only this machine" in result.stderr


def test_every_environment_variable_the_settings_read_is_documented_in_the_readme():
    settings_source = (ROOT / "config" / "settings.py").read_text()
    names = set(re.findall(r'(?:environ\.get|env_[a-z]+)\(\s*"([A-Z0-9_]+)"', settings_source))
    names |= set(re.findall(r'os\.environ\["([A-Z0-9_]+)"\]', settings_source))
    readme = (ROOT / "README.md").read_text()
    undocumented = sorted(name for name in names if f"`{name}`" not in readme)
    assert names and not undocumented, f"README.md does not document: {undocumented}"


# --- Strict values: a typo stops the start and names the variable ----------------------------


@pytest.fixture
def settings_from(monkeypatch, tmp_path):
    """config/settings.py run afresh with these environment variables (and no ANYMAIL_* of ours)."""
    for name in [name for name in os.environ if name.startswith("ANYMAIL_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("VAR_DIR", str(tmp_path))

    def run(**environ):
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(ROOT / "config" / "settings.py"))

    return run


def test_a_typo_in_a_boolean_stops_the_start_and_names_the_variable():
    result = manage("check", DEBUG="ture")
    assert result.returncode != 0
    assert "DEBUG='ture' is not a boolean: use 1 or 0 (true/false, yes/no, on/off)." in result.stderr


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("RANKING_TITLE_MATCH", "yes please", "RANKING_TITLE_MATCH='yes please' is not a boolean"),
        ("SEND_BATCH_SIZE", "twenty", "SEND_BATCH_SIZE='twenty' is not a whole number."),
        ("FETCH_TIMEOUT", "20s", "FETCH_TIMEOUT='20s' is not a number."),
        ("RANKING_MIN_SCORE", "nan", "RANKING_MIN_SCORE='nan' is not a number."),
        ("INGEST_HOUR_UTC", "24", "INGEST_HOUR_UTC=24 is out of range: it must be from 0 to 23."),
        ("SEND_MAX_ATTEMPTS", "0", "SEND_MAX_ATTEMPTS=0 is out of range: it must be at least 1."),
        ("ANYMAIL_IGNORE_RECIPIENT_STATUS", "nope", "ANYMAIL_IGNORE_RECIPIENT_STATUS='nope' is not a boolean"),
        ("ANYMAIL_SEND_DEFAULTS", "[1]", "ANYMAIL_SEND_DEFAULTS must be a JSON object"),
        ("SIGNUP_RATE_PER_IP", "20 per hour", "SIGNUP_RATE_PER_IP='20 per hour' is not a rate like 20/h"),
        ("ADMIN_LOGIN_FAILURE_RATE", "0/h", "ADMIN_LOGIN_FAILURE_RATE='0/h' is not a rate like 20/h"),
        ("TRUSTED_PROXY_ADDRESSES", "10.0.0.0/8, proxy", "TRUSTED_PROXY_ADDRESSES: 'proxy' is not an IP address"),
    ],
)
def test_a_bad_value_is_refused_with_the_variable_named(settings_from, name, value, message):
    with pytest.raises(ImproperlyConfigured) as refused:
        settings_from(**{name: value})
    assert message in str(refused.value)


@pytest.mark.parametrize(
    "value, meaning",
    [
        ("1", True),
        ("TRUE", True),
        ("yes", True),
        ("On", True),
        ("0", False),
        ("False", False),
        ("no", False),
        ("", False),
    ],
)
def test_a_boolean_may_be_written_in_any_usual_way(settings_from, value, meaning):
    assert settings_from(DEBUG=value)["DEBUG"] is meaning


def test_anymail_settings_get_the_types_anymail_expects(settings_from):
    settings = settings_from(
        ANYMAIL_ESP="postmark",
        ANYMAIL_POSTMARK_SERVER_TOKEN="0123",
        ANYMAIL_IGNORE_RECIPIENT_STATUS="False",
        ANYMAIL_POSTMARK_USE_BULK_API="1",
        ANYMAIL_REQUESTS_TIMEOUT="7.5",
        ANYMAIL_SEND_DEFAULTS='{"tags": ["digest"]}',
    )
    assert settings["ANYMAIL"] == {
        "POSTMARK_SERVER_TOKEN": "0123",
        "IGNORE_RECIPIENT_STATUS": False,
        "POSTMARK_USE_BULK_API": True,
        "REQUESTS_TIMEOUT": 7.5,
        "SEND_DEFAULTS": {"tags": ["digest"]},
    }


# --- Timing settings that would break exactly-once fail `manage.py check` ----------------------


def test_an_unsafe_sweep_timeout_fails_the_check_naming_the_settings_and_the_safe_relation():
    result = manage("check", SENDING_STUCK_AFTER_MINUTES="2")
    assert result.returncode != 0
    assert "SENDING_STUCK_AFTER_MINUTES (2 min = 120 s) is not longer than CELERY_TASK_TIME_LIMIT (180 s)." in (
        result.stderr
    )
    assert "Keep SENDING_STUCK_AFTER_MINUTES × 60 > SEND_RETRY_MAX_SECONDS + CELERY_TASK_TIME_LIMIT" in result.stderr


@pytest.mark.parametrize(
    "changes, messages",
    [
        (
            {"SENDING_STUCK_AFTER_MINUTES": 10},
            [
                "SENDING_STUCK_AFTER_MINUTES (10 min = 600 s) is not longer than SEND_RETRY_MAX_SECONDS (600 s) "
                "+ CELERY_TASK_TIME_LIMIT (180 s).",
                "the sweeper would take a digest waiting for its retry for one whose task was lost",
            ],
        ),
        (
            {"SEND_RETRY_MAX_SECONDS": 3500},
            [
                "SEND_RETRY_MAX_SECONDS (3500 s) + CELERY_TASK_TIME_LIMIT (180 s) is not below "
                "CELERY_BROKER_VISIBILITY_TIMEOUT (3600 s).",
                "Keep SEND_RETRY_MAX_SECONDS + CELERY_TASK_TIME_LIMIT < CELERY_BROKER_VISIBILITY_TIMEOUT",
            ],
        ),
        (
            {"CELERY_TASK_SOFT_TIME_LIMIT": 180},
            [
                "CELERY_TASK_SOFT_TIME_LIMIT (180 s) is not below CELERY_TASK_TIME_LIMIT (180 s).",
                "Keep CELERY_TASK_SOFT_TIME_LIMIT < CELERY_TASK_TIME_LIMIT",
            ],
        ),
        (
            {"CELERY_BROKER_VISIBILITY_TIMEOUT": 600},
            [
                "CELERY_TASK_TIME_LIMIT (180 s) is not below CELERY_BROKER_VISIBILITY_TIMEOUT (600 s).",
                "Task papers.tasks.ingest_all_sources: its time limit (3500 s) is not below "
                "CELERY_BROKER_VISIBILITY_TIMEOUT (600 s).",
            ],
        ),
    ],
)
def test_timings_that_would_send_a_digest_twice_fail_the_check(settings, changes, messages):
    for name, value in changes.items():
        setattr(settings, name, value)

    with pytest.raises(SystemCheckError) as failed:
        call_command("check")

    for message in messages:
        assert message in str(failed.value)


def test_the_default_timings_pass_the_check(settings):
    call_command("check", "--tag", "exactly_once")
