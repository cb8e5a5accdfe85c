"""An operator configures the service through environment variables, all documented."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_every_environment_variable_the_settings_read_is_documented_in_the_readme():
    settings_source = (ROOT / "config" / "settings.py").read_text()
    names = set(re.findall(r'(?:environ\.get|env_bool|env_int|env_float|env_list)\(\s*"([A-Z0-9_]+)"', settings_source))
    names |= set(re.findall(r'os\.environ\["([A-Z0-9_]+)"\]', settings_source))
    readme = (ROOT / "README.md").read_text()
    undocumented = sorted(name for name in names if f"`{name}`" not in readme)
    assert names and not undocumented, f"README.md does not document: {undocumented}"
