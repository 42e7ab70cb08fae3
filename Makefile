# Two commands do all the set-up on a fresh clone: `make run` and `make test`.
# Everything installs from the hashed lock files in requirements/ into .venv.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check --quiet
export FLASK_APP := authdemo

.PHONY: run test lint format typecheck bench serve screenshots system-packages clean lock translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.main: requirements/main.lock pyproject.toml | $(BIN)/python
	$(PIP) install --require-hashes -r requirements/main.lock
	$(PIP) install --no-deps -e .
	@touch $@

$(VENV)/.dev: requirements/dev.lock pyproject.toml | $(BIN)/python
	$(PIP) install --require-hashes -r requirements/dev.lock
	$(PIP) install --no-deps -e .
	@touch $@ $(VENV)/.main

## run: install, create/migrate the SQLite database under instance/, serve on http://localhost:5000
run: $(VENV)/.main
	$(BIN)/flask db upgrade
	$(BIN)/flask passkeys record-switches
	$(BIN)/flask run --host localhost --port 5000

## test: install test extras and the Debian packages below if missing, run the whole suite,
## then the compliance check on its results (a cited test that failed, was xfailed or did not
## run fails it; one skipped because a service was down is a note here: .ci/run checks the
## SQLite and the PostgreSQL run together with --every-service, where a skip fails it).
## `make test PYTEST_WORKERS=auto` runs it in one pytest-xdist worker per core
## (docs/decisions/0024); one process stays the default until a whole parallel CI run
## has been seen green.
TEST_RESULTS := .test-results/pytest.xml
PYTEST_WORKERS ?= 0
test: $(VENV)/.dev system-packages
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --junitxml=$(TEST_RESULTS)
	$(BIN)/flask compliance check --junit $(TEST_RESULTS)

# Debian packages the suite runs, as "command they install:package". Only missing ones are
# installed (apt-get, as root or with sudo), so running `make test` again costs nothing.
# chromium: the end-to-end tests; prometheus: promtool, which tests deploy/prometheus/;
# nginx, libnss3-tools (certutil) and gettext-base (envsubst): the deployed-stack stage in
# tests/deployed/, which starts its own nginx (installing nginx may also start Debian's
# nginx service on port 80; the tests never use it).
SYSTEM_PACKAGES := /usr/bin/chromium:chromium /usr/bin/promtool:prometheus \
	/usr/sbin/nginx:nginx /usr/bin/certutil:libnss3-tools /usr/bin/envsubst:gettext-base

system-packages:
	@missing=""; \
	for pair in $(SYSTEM_PACKAGES); do \
	  [ -x "$${pair%%:*}" ] || missing="$$missing $${pair#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages for the tests:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  apt="$$SUDO apt-get -qq -o DPkg::Lock::Timeout=300"; \
	  $$apt update && DEBIAN_FRONTEND=noninteractive $$apt install -y --no-install-recommends $$missing; \
	fi

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/bandit -q -r authdemo -c pyproject.toml
	@# pip-audit asks PyPI's JSON API (https://pypi.org/pypi/NAME/VERSION/json) about each
	@# installed package. Probe it first: offline, or behind a mirror without that API,
	@# pip-audit would skip every package and still report "No known vulnerabilities".
	@if $(BIN)/python -c "import importlib.metadata as m, json, urllib.request as u; \
	    url = 'https://pypi.org/pypi/flask/' + m.version('flask') + '/json'; \
	    json.load(u.urlopen(url, timeout=10))['vulnerabilities']" 2>/dev/null; then \
	  $(BIN)/pip-audit --skip-editable --progress-spinner off; \
	else \
	  echo "pip-audit: skipped: cannot reach the vulnerability database (PyPI JSON API)"; \
	fi

format: $(VENV)/.dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.dev
	$(BIN)/python -m bench

## screenshots: the gallery in docs/screenshots/ (every main step, desktop and phone) from the real app in headless Chromium
screenshots: $(VENV)/.dev system-packages
	$(BIN)/python tools/screenshots.py

## serve: production-style server (granian, deploy/serve.py: 2 workers x 2 threads) on 127.0.0.1:8000.
## Configure with AUTHDEMO_* variables (see README); production needs AUTHDEMO_ENV=production.
serve: $(VENV)/.main
	@$(BIN)/python deploy/serve.py --check
	$(BIN)/flask db upgrade
	$(BIN)/flask passkeys record-switches
	MALLOC_ARENA_MAX=2 $(BIN)/python deploy/serve.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

## translations: extract the marked messages (babel.cfg) to a temporary template, merge
## them into each language's authdemo/translations/<lang>/LC_MESSAGES/messages.po and
## compile the .mo files the app reads (docs/translating.md). Commit the .po and the .mo.
TRANSLATIONS := authdemo/translations
BABEL_EXTRACT := extract -F babel.cfg -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2 \
	-c Translators: --sort-output --add-location file --project authdemo
translations: $(VENV)/.dev
	@pot=$$(mktemp --suffix .pot) && trap 'rm -f "$$pot"' EXIT && \
	$(BIN)/pybabel -q $(BABEL_EXTRACT) -o "$$pot" . && \
	for po in $(TRANSLATIONS)/*/LC_MESSAGES/messages.po; do \
	  lang=$${po#$(TRANSLATIONS)/}; lang=$${lang%%/*}; \
	  $(BIN)/pybabel -q update -i "$$pot" -d $(TRANSLATIONS) -l "$$lang" \
	    --ignore-obsolete --ignore-pot-creation-date || exit 1; \
	done && \
	$(BIN)/pybabel compile -d $(TRANSLATIONS) --statistics

## lock: re-resolve the lock files (needs network access to PyPI)
lock:
	$(PIP) install uv
	$(BIN)/uv pip compile pyproject.toml -q --python-version 3.11 --generate-hashes \
	  --extra postgres --extra redis -o requirements/main.lock
	$(BIN)/uv pip compile pyproject.toml -q --python-version 3.11 --generate-hashes \
	  --extra test --extra dev --extra postgres --extra redis -o requirements/dev.lock
