"""docker-compose.yml starts the whole service, and every setting it passes is one the app reads.

There is no Docker engine on these machines, so the file is checked by reading it.
"""

import http.server
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_READ = re.compile(r'(?:environ\.get|environ\[|env_[a-z]+)\(?\s*"([A-Z][A-Z0-9_]*)"')


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def settings_names():
    names = set(SETTINGS_READ.findall((ROOT / "config" / "settings.py").read_text()))
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "EMAIL_URL"} <= names
    return names


def read_by_settings(name, settings_names):
    return name in settings_names or name.startswith("ANYMAIL_")  # settings passes every ANYMAIL_* to anymail


def app_services(compose):
    return {name: service for name, service in compose["services"].items() if "build" in service}


def test_the_compose_file_runs_every_part_of_the_service(compose):
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "beat", "mailpit"}
    assert set(app_services(compose)) == {"web", "worker", "beat"}
    assert "gunicorn config.wsgi:application" in services["web"]["command"]
    assert "collectstatic" in services["web"]["command"] and "migrate" in services["web"]["command"]
    worker = " ".join(services["worker"]["command"])
    assert "celery -A config worker" in worker and "-Q ingest,mail" in worker
    beat = " ".join(services["beat"]["command"])
    assert "setup_schedule" in beat and "celery -A config beat" in beat
    assert "127.0.0.1:8025:8025" in services["mailpit"]["ports"]


def test_nothing_is_published_beyond_this_machine_so_the_proxy_is_the_only_way_in(compose):
    """A client that reached gunicorn directly would bypass the TLS proxy, and could write its own
    X-Forwarded-For; the app port and mailpit's UI (every reader's links) listen on loopback only."""
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} to the network"
    assert compose["services"]["web"]["ports"] == ["127.0.0.1:8000:8000"]


def test_services_have_health_checks_and_data_survives_in_volumes(compose):
    services = compose["services"]
    for name in ("postgres", "redis", "web", "worker", "mailpit"):
        assert services[name]["healthcheck"]["test"], name
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["web"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in services["postgres"]["volumes"])
    assert any(volume.endswith(":/data") for volume in services["redis"]["volumes"])
    assert "--appendonly" in services["redis"]["command"]
    assert set(compose["volumes"]) >= {"pgdata", "redisdata"}


def test_every_variable_given_to_the_app_is_one_settings_reads(compose, settings_names):
    for name, service in app_services(compose).items():
        assert service["env_file"] == ".env"
        unknown = [key for key in service["environment"] if not read_by_settings(key, settings_names)]
        assert unknown == [], f"{name} sets variables config/settings.py never reads: {unknown}"
    assert app_services(compose)["web"]["environment"]["EMAIL_URL"].endswith("smtp://mailpit:1025}")


def test_the_example_env_file_names_only_real_settings(compose, settings_names):
    lines = (ROOT / ".env.example").read_text().splitlines()
    names = {line.split("=", 1)[0].lstrip("# ").strip() for line in lines if re.match(r"#? ?[A-Z][A-Z0-9_]*=", line)}
    interpolated = set(re.findall(r"\$\{([A-Z0-9_]+)", (ROOT / "docker-compose.yml").read_text()))
    unknown = sorted(name for name in names if not read_by_settings(name, settings_names) and name not in interpolated)
    assert unknown == []
    assert {"SECRET_KEY", "POSTGRES_PASSWORD", "ANYMAIL_WEBHOOK_SECRET", "ALLOWED_HOSTS"} <= names
    assert interpolated <= names | settings_names


class _App(http.server.BaseHTTPRequestHandler):
    """Stands in for gunicorn: like Django, it answers 400 to a Host outside ALLOWED_HOSTS."""

    allowed_host = "digest.example.org"
    status = 200

    def do_GET(self):
        self.send_response(self.status if self.headers["Host"] == self.allowed_host else 400)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def app_port():
    server = http.server.HTTPServer(("127.0.0.1", 0), _App)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def web_healthcheck(compose, port, site_url):
    """Run the web container's health check against the stand-in app; True when healthy."""
    code = compose["services"]["web"]["healthcheck"]["test"][-1].replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    environment = {**os.environ, "SITE_URL": site_url}
    return subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True).returncode == 0


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, True), (500, False)])
def test_the_web_is_healthy_once_it_serves_its_public_host_so_worker_and_beat_start(
    compose, app_port, monkeypatch, status, healthy
):
    """A deployment whose ALLOWED_HOSTS names only its public host still comes up, and a stale
    ingest (503) does not keep the worker, which would mend it, from starting."""
    monkeypatch.setattr(_App, "status", status)
    assert web_healthcheck(compose, app_port, "https://digest.example.org") is healthy


def test_the_web_is_unhealthy_when_site_url_names_a_host_it_refuses(compose, app_port):
    assert not web_healthcheck(compose, app_port, "https://typo.example.org")
