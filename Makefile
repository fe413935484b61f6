# PayWarden developer entry points.  User-facing targets: `make run`, `make test`.
# Everything else here is a helper.
#
#   make run                            start the platform on http://localhost:8000
#   make test                           run the test suite against SQLite and a
#                                       throwaway PostgreSQL 15 (scripts/pgtemp.py),
#                                       with a throwaway Redis (scripts/redistemp.py),
#                                       in PYTEST_WORKERS processes (pytest-xdist),
#                                       after ruff and mypy --strict
#   make test PYTEST_ARGS='-x -k ledger'  pass extra arguments to pytest
#   make test PYTEST_WORKERS=0          run the tests in this one process

PYTHON ?= python3
VENV := .venv
VENV_PY := $(VENV)/bin/python
PIP_FLAGS := --quiet --disable-pip-version-check
PYTEST_ARGS ?=
# Many tests wait on servers, subprocesses and the browser, so more workers than
# cores pays (measured in docs/decisions/0024-ci-checks.md).
# Tests that must not overlap share an xdist_group; loadgroup keeps each group
# in one worker.
PYTEST_WORKERS ?= 4

.DEFAULT_GOAL := usage
.PHONY: usage run test

usage:
	@echo "make run    start PayWarden on http://localhost:8000 (listens on 127.0.0.1)"
	@echo "make test   run the test suite (starts a throwaway PostgreSQL and Redis; PYTEST_ARGS='...' for pytest)"

run: $(VENV)/.installed-run
	$(VENV)/bin/paywarden run

test: $(VENV)/.installed-test
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/mypy src
	$(PYTHON) scripts/chromium.py >/dev/null  # the page tests' browser (apt-get as root)
	@# LightGBM (the risk model, extra `risk`) links OpenMP's libgomp, which a bare Debian lacks.
	@{ ldconfig -p 2>/dev/null || /sbin/ldconfig -p; } | grep -q 'libgomp\.so\.1' || { echo "make: installing libgomp1 with apt-get" >&2; \
	  apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y libgomp1 >&2; }
	@# The failover tests' cluster (tests/ha): etcd from Debian (Patroni is the extra `ha`).
	@command -v etcd >/dev/null 2>&1 || { echo "make: installing etcd-server with apt-get" >&2; \
	  apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y etcd-server >&2; }
	$(PYTHON) scripts/redistemp.py -- $(VENV_PY) scripts/pgtemp.py -- \
	  $(VENV_PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# The venv counts as created once it has pip.  Debian ships venv/ensurepip in
# a separate package; install it if creating the venv fails.
$(VENV)/bin/pip:
	@if ! $(PYTHON) -m venv $(VENV); then \
	  echo "make: '$(PYTHON) -m venv' failed; installing python3-venv with apt-get" >&2; \
	  apt-get update >&2 && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv >&2 && \
	  $(PYTHON) -m venv --clear $(VENV); \
	fi

# Stamps: reinstall only when pyproject.toml changes (or the venv is new).
$(VENV)/.installed-run: pyproject.toml | $(VENV)/bin/pip
	$(VENV_PY) -m pip install $(PIP_FLAGS) -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/pip
	$(VENV_PY) -m pip install $(PIP_FLAGS) -e '.[test,redis,risk,ha]'
	@touch $@
