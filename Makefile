# One task runner for people and CI. Needs only python3 (3.11+) and make: the virtual
# environment is created on first use, from the lock file, and refreshed when it changes.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test chromium lint typecheck check lock clean

demo: $(VENV)/.installed  ## the main job: a 40-person programme year on the embedded stack
	$(BIN)/mentorflow demo

# One test process by default (CI). `make test TEST_PROCESSES=3` runs the test files in three
# processes (pytest-xdist), each with its own servers, a test file wholly in one of them, the
# longest files first (tests/conftest.py): 9:19 on two cores (two processes: 10:47), as a third
# of the suite waits in real time. Not the default: under that load a CI-like run failed twice
# (the rehearsal's launch a second late, beyond its tolerance; a skip of the Java time-skipping
# test server stalled past the SDK's 30 s).
TEST_PROCESSES ?= 0

test: $(VENV)/.installed chromium  ## the whole test suite against real PostgreSQL and Temporal servers
	$(BIN)/pytest --numprocesses $(TEST_PROCESSES) --dist loadfile --no-loadscope-reorder

# The browser tests drive the system's Chromium (Playwright never downloads a browser here):
# Debian's package, installed with apt when it is missing (as root, as on CI).
chromium:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

lint: $(VENV)/.installed  ## ruff, and the layer rules as import contracts (pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m tests.lockfile  # the lock files still say what pyproject.toml asks for
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed
	$(BIN)/mypy

check: lint typecheck test

# Exactly the versions of requirements-dev.lock, each checked against its recorded hashes (pip
# refuses a lock that misses a dependency); then the project itself, whose dependencies the lock
# already holds, and pip's check that every requirement is met.
$(VENV)/.installed: pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check
	touch $@

# After changing a dependency in pyproject.toml: resolve again, keeping every pin that still fits
# (`make lock UPGRADE=--upgrade` takes the newest versions allowed; `UPGRADE='--upgrade-package
# NAME'` one package). The image installs requirements.lock, the runtime part of the same pins.
LOCK_OPTIONS := --universal --python-version 3.11 --generate-hashes --quiet $(UPGRADE)
# (Not after .installed: that would install the old lock, which no longer meets pyproject.toml.)
lock: | $(BIN)/uv
	$(BIN)/uv pip compile $(LOCK_OPTIONS) --extra dev -o requirements-dev.lock pyproject.toml
	$(BIN)/uv pip compile $(LOCK_OPTIONS) -c requirements-dev.lock -o requirements.lock pyproject.toml

$(BIN)/uv:  # the uv of the lock, alone, when the environment is not there yet
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-deps '$(shell grep -o '^uv==[^ ]*' requirements-dev.lock)'

clean:
	rm -rf $(VENV) .mentorflow .pytest_cache .mypy_cache .ruff_cache
