# Two commands on a fresh machine: `make demo` and `make test`. See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium
BENCH_ARGS ?= --subscribers 10000 --papers 1000
PYTEST_ARGS ?=
export HF_HUB_OFFLINE := 1

.PHONY: install browser demo lint test bench run worker beat clean

install: $(STAMP)

# torch first and pinned: 2.13.0 is a local CPU wheel; any other version downloads gigabytes.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

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

# The README's screenshots, taken by the browser stories in headless Chromium (tests write theirs to a temp dir).
screenshots: install browser
	SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(PY) -m pytest -q -m browser tests/test_browser_subscribe.py

bench: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py bench $(BENCH_ARGS)

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py runserver

worker: install
	$(VENV)/bin/celery -A config worker -Q celery,ingest,mail -l info

beat: install
	$(VENV)/bin/celery -A config beat -l info

clean:
	rm -rf var/
