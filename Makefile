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
#   make sbom                           write sbom.cdx.json: a CycloneDX SBOM of the venv
#   make lock                           regenerate requirements/*.txt from pyproject.toml,
#                                       keeping the pins it can (LOCK_ARGS=--upgrade: the
#                                       newest releases the ranges allow)

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
# Dependencies install only from the lock files, every file checked against its sha256
# (decision 0068). build.txt holds the build backend (setuptools), run.txt the base
# dependencies, test.txt those and the extras below; all three name the same versions.
# The lock files target CPython 3.11 on x86_64 Linux.
LOCK_BUILD := requirements/build.txt
LOCK_RUN := requirements/run.txt
LOCK_TEST := requirements/test.txt
LOCKED_EXTRAS := test redis risk ha release
LOCK_TOOL := .lock-tool
LOCK_ARGS ?=
UV_COMPILE = $(LOCK_TOOL)/bin/uv pip compile --quiet --no-config --generate-hashes \
  --python-version 3.11 --python-platform x86_64-unknown-linux-gnu $(LOCK_ARGS)
SBOM ?= sbom.cdx.json

.DEFAULT_GOAL := usage
.PHONY: usage run test sbom lock

usage:
	@echo "make run    start PayWarden on http://localhost:8000 (listens on 127.0.0.1)"
	@echo "make test   run the test suite (starts a throwaway PostgreSQL and Redis; PYTEST_ARGS='...' for pytest)"
	@echo "make sbom   write $(SBOM), a CycloneDX SBOM of what the venv holds"
	@echo "make lock   regenerate the hashed lock files in requirements/ (LOCK_ARGS=--upgrade)"

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

# The SBOM lists what is installed, read from the venv's own metadata, not the lock;
# the project is its root component. SBOM_OF=/opt/paywarden/.venv/bin/python describes
# another venv (a server's, made by `make run`, which lacks the tool) instead.
SBOM_OF ?= $(VENV_PY)
sbom: $(VENV)/.installed-test
	$(VENV)/bin/cyclonedx-py environment --pyproject pyproject.toml --mc-type application \
	  --output-reproducible --output-format JSON --spec-version 1.6 --output-file $(SBOM) \
	  $(SBOM_OF)

# The run and build locks are resolved under the test lock's pins: one version of each.
lock: $(LOCK_TOOL)/bin/uv
	$(UV_COMPILE) pyproject.toml requirements/build.in $(LOCKED_EXTRAS:%=--extra %) \
	  --output-file $(LOCK_TEST)
	$(UV_COMPILE) pyproject.toml requirements/build.in --constraints $(LOCK_TEST) \
	  --output-file $(LOCK_RUN)
	$(UV_COMPILE) requirements/build.in --constraints $(LOCK_TEST) --output-file $(LOCK_BUILD)
	$(UV_COMPILE) requirements/lock-tool.in --output-file requirements/lock-tool.txt

# uv, the resolver, in a venv of its own: it is never part of what PayWarden runs.
$(LOCK_TOOL)/bin/uv: requirements/lock-tool.txt
	$(PYTHON) -m venv $(LOCK_TOOL)
	$(LOCK_TOOL)/bin/python -m pip install $(PIP_FLAGS) --require-hashes --no-deps \
	  -r requirements/lock-tool.txt
	@touch $@

# The venv counts as created once it has pip.  Debian ships venv/ensurepip in
# a separate package; install it if creating the venv fails.
$(VENV)/bin/pip:
	@if ! $(PYTHON) -m venv $(VENV); then \
	  echo "make: '$(PYTHON) -m venv' failed; installing python3-venv with apt-get" >&2; \
	  apt-get update >&2 && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv >&2 && \
	  $(PYTHON) -m venv --clear $(VENV); \
	fi

# Stamps: reinstall only when pyproject.toml or a lock file changes (or the venv is new).
# Every step installs by hash and nothing else (--no-deps), except the last: pip installs
# no editable project under --require-hashes, so the project comes alone. The build
# backend goes first: the project and the lock's source-only distributions (python-etcd
# and ydiff, extra ha) build against it (--no-build-isolation), where pip would otherwise
# fetch a build backend of its own, unpinned and unchecked.
$(VENV)/.installed-run: pyproject.toml $(LOCK_BUILD) $(LOCK_RUN) | $(VENV)/bin/pip
	$(VENV_PY) -m pip install $(PIP_FLAGS) --require-hashes --no-deps -r $(LOCK_BUILD)
	$(VENV_PY) -m pip install $(PIP_FLAGS) --require-hashes --no-deps --no-build-isolation \
	  -r $(LOCK_RUN)
	$(VENV_PY) -m pip install $(PIP_FLAGS) --no-deps --no-build-isolation -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(LOCK_BUILD) $(LOCK_TEST) | $(VENV)/bin/pip
	$(VENV_PY) -m pip install $(PIP_FLAGS) --require-hashes --no-deps -r $(LOCK_BUILD)
	$(VENV_PY) -m pip install $(PIP_FLAGS) --require-hashes --no-deps --no-build-isolation \
	  -r $(LOCK_TEST)
	$(VENV_PY) -m pip install $(PIP_FLAGS) --no-deps --no-build-isolation -e .
	@touch $@
