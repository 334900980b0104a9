# One task runner for people and CI. Needs only python3 (3.11+) and make: the virtual
# environment is created on first use and refreshed when pyproject.toml changes.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test chromium lint typecheck check clean

demo: $(VENV)/.installed  ## the main job: a 40-person programme year on the embedded stack
	$(BIN)/mentorflow demo

test: $(VENV)/.installed chromium  ## the whole test suite against real PostgreSQL and Temporal servers
	$(BIN)/pytest

# The browser tests drive the system's Chromium (Playwright never downloads a browser here):
# Debian's package, installed with apt when it is missing (as root, as on CI).
chromium:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

lint: $(VENV)/.installed  ## ruff, and the layer rules as import contracts (pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed
	$(BIN)/mypy

check: lint typecheck test

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

clean:
	rm -rf $(VENV) .mentorflow .pytest_cache .mypy_cache .ruff_cache
