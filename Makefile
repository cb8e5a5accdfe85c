# Two commands on a fresh machine: `make demo` and `make test`. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium
BENCH_ARGS ?= --subscribers 10000 --papers 1000
RUN_ADDR ?= 127.0.0.1:8000
PYTEST_ARGS ?=
export HF_HUB_OFFLINE := 1

.PHONY: install lock browser demo lint test screenshots bench run need-redis worker beat clean

install: $(STAMP)

# Exactly the locked tree (runtime + dev tools, pip itself included), every file checked
# against its hash; torch is the locked 2.13.0 CPU wheel (a local file here, see requirements.in).
$(STAMP): requirements-dev.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

# After editing requirements.in or requirements-dev.in: pin the whole tree again, with hashes.
# Versions already locked stay as they are; LOCK_ARGS=--upgrade (or --upgrade-package NAME) moves them.
LOCK_ARGS ?=
PIP_COMPILE = $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links $(LOCK_ARGS)
lock: install
	$(PIP_COMPILE) -o requirements.lock requirements.in
	$(PIP_COMPILE) -o requirements-dev.lock requirements-dev.in

# Debian's Chromium for the browser tests (Playwright drives it; browser downloads fail here).
browser:
	@test -x $(CHROMIUM) || { echo "Installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null \
	  || { echo "Could not install chromium: run 'apt-get install chromium' as root"; exit 1; }; }

demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo

# ruff (lint and format), the import layers (pyproject.toml: importlinter), mypy with django-stubs.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy .

test: install browser
	$(PY) -m pytest $(PYTEST_ARGS)

# The README's screenshots, taken by the browser stories in headless Chromium (tests write theirs to a temp dir):
# the sign-up and manage pages, a digest opened in the browser, the admin's Today page.
screenshots: install browser
	SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(PY) -m pytest -q -m browser tests/test_browser_subscribe.py \
	  tests/test_browser_admin.py

bench: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py bench $(BENCH_ARGS)

# The web server on embedded defaults; static files come from whitenoise (config/settings.py).
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py runserver $(RUN_ADDR)

# A worker and the one beat need the shared broker: the same REDIS_URL (and DATABASE_URL) as the web server.
need-redis:
	@test -n "$(REDIS_URL)" || { echo "REDIS_URL is not set: workers and beat share tasks through Redis," \
	  "e.g. REDIS_URL=redis://127.0.0.1:6379/0 make $(MAKECMDGOALS) (and the same for make run)"; exit 1; }

worker: install need-redis
	$(VENV)/bin/celery -A config worker -Q celery,ingest,mail -l info

# Creates the schedule first (idempotent: staff changes in the admin are kept).
beat: install need-redis
	$(PY) manage.py setup_schedule
	$(VENV)/bin/celery -A config beat -l info

clean:
	rm -rf var/
