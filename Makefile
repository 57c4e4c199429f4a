# The two commands: `make run` (portal + sandbox + demo data) and `make test` (the whole suite; `make test-fast` for
# the unit and view tests alone).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RUN_DIR := var
DEMO_ENV := $(RUN_DIR)/demo.env

.PHONY: run test test-fast lint setup browser npm demo-env clean

$(VENV)/.installed: requirements.txt
	@python_bin="$$(scripts/find-python)" || exit 1; \
	 echo "Using $$python_bin ($$($$python_bin --version))"; \
	 [ -x $(PY) ] || "$$python_bin" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

setup: $(VENV)/.installed

# The demo API client shared by the portal and the sandbox: made once, random, never a production secret.
$(DEMO_ENV):
	@mkdir -p $(RUN_DIR)
	@$(PY) scripts/make-demo-env > $@.tmp && mv $@.tmp $@
	@echo "Wrote demo credentials to $@"

# A demo.env written before a variable existed (e.g. the single sign-on client) gets it appended; values kept.
demo-env: setup $(DEMO_ENV)
	@$(PY) scripts/make-demo-env --missing-from $(DEMO_ENV) > $(DEMO_ENV).missing && \
	 if [ -s $(DEMO_ENV).missing ]; then \
	   cat $(DEMO_ENV).missing >> $(DEMO_ENV); \
	   echo "Added to $(DEMO_ENV): $$(cut -d= -f1 $(DEMO_ENV).missing | tr '\n' ' ')"; \
	 fi; rm -f $(DEMO_ENV).missing

run: demo-env
	@set -a; source $(DEMO_ENV); set +a; \
	 $(PY) -m sandbox migrate && $(PY) -m sandbox demo && \
	 $(PY) manage.py migrate --no-input -v 0 && $(PY) manage.py collectstatic --no-input -v 0 && \
	 $(PY) manage.py demo_setup && \
	 $(PY) manage.py sso_demo_setup && \
	 { $(PY) manage.py privacy_demo_setup --wait 120 > $(RUN_DIR)/privacy_demo_setup.log 2>&1 & } && \
	 scripts/banner && \
	 exec $(VENV)/bin/honcho --no-prefix -f Procfile -e $(DEMO_ENV) start

# Browser tests drive Debian's Chromium; Playwright's own browser download does not work here.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    (apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)); \
	  else echo "Chromium is missing: install Debian's 'chromium' package (apt-get install chromium)" >&2; exit 1; fi; \
	fi

# axe-core for the accessibility checks of the browser tests (tests/e2e/test_accessibility.py): installed from the
# lock file, again whenever package.json or package-lock.json is newer than the install. `make run` needs none of it.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js (Debian's nodejs and npm packages)" >&2; exit 1; }
	npm ci --no-audit --no-fund
	@touch $@

npm: node_modules/.installed

test: setup browser npm
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The fast lane: unit and view tests, under a minute. It leaves out what needs the sandbox process, a Celery worker,
# Chromium, Redis or PostgreSQL, and tests that start processes of their own (markers: pyproject.toml).
FAST_TESTS := not sandbox and not worker and not browser and not needs_redis and not needs_postgres and not slow
test-fast: setup
	$(VENV)/bin/pytest -m "$(FAST_TESTS)" $(PYTEST_ARGS)

# ruff (rules in pyproject.toml) over everything, and mypy with the Django plugin over the portal with bench/
# (pyproject.toml) and over the sandbox, a Django project of its own (sandbox/mypy.ini). CI runs it first.
PORTAL_PACKAGES := mintportal accounts workflows privacy journeys savedviews launches approvals bulk notifications compliance operations sso bench
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy $(PORTAL_PACKAGES)
	SANDBOX_CLIENT_ID=lint SANDBOX_CLIENT_SECRET=lint $(VENV)/bin/mypy --config-file sandbox/mypy.ini sandbox

# The scale benchmark (issue 6): needs PostgreSQL and Redis; takes several minutes. See bench/README.md.
.PHONY: bench
bench: setup
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(RUN_DIR)
