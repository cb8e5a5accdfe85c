"""A newcomer follows the README: `make run` on the embedded defaults (DEBUG=0, a fresh SQLite,
no collectstatic), then opens the sign-up page and the admin in a browser. Both must arrive
styled, with their scripts: the very command `make run` runs serves them, not a test server."""

import os
import signal
import subprocess
import urllib.request

import pytest

from tests.services import BASE_DIR, free_port, wait_for

pytestmark = pytest.mark.browser

# What the test process itself was given (its database, its Celery, its settings) stays out of
# the server's environment: `make run` must work on nothing but the defaults.
NOT_PASSED_ON = ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "DEBUG", "PRODUCTION", "VAR_DIR")


def answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def make_run(tmp_path):
    """`make run` on a free port, in a fresh VAR_DIR; stopped with its whole process group."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in NOT_PASSED_ON}
    env["VAR_DIR"] = str(tmp_path / "var")
    log = open(tmp_path / "make-run.log", "wb")
    # -o: the virtualenv counts as installed (the tests already run in it).
    server = subprocess.Popen(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "run", f"RUN_ADDR=127.0.0.1:{port}"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: answers(url + "/") or server.poll() is not None, 180, "make run to serve the sign-up page")
        assert server.poll() is None, (tmp_path / "make-run.log").read_text()
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


def open_and_watch(browser, url, **options):
    """Open `url`; return the page and every static file that did not arrive."""
    page = browser.new_page(**options)
    missing = []
    page.on("response", lambda r: "/static/" in r.url and r.status != 200 and missing.append(f"{r.status} {r.url}"))
    page.goto(url)
    page.wait_for_load_state("load")
    return page, missing


def test_make_run_serves_the_styled_sign_up_page_and_admin(browser, make_run):
    from playwright.sync_api import expect

    page, missing = open_and_watch(browser, make_run + "/", timezone_id="Asia/Tokyo")
    assert missing == []
    # site.css paints the page grey; preferences.js picks the visitor's time zone.
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(244, 245, 247)"
    expect(page.get_by_label("Time zone")).to_have_value("Asia/Tokyo")

    page, missing = open_and_watch(browser, make_run + "/admin/login/")
    assert missing == []
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    header = page.evaluate("getComputedStyle(document.getElementById('header')).display")
    assert header == "flex", "the admin's own stylesheet lays out its header"
