# deconflict — the two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP_BASE := $(VENV)/.installed-base
STAMP_DEV  := $(VENV)/.installed-dev
DEMO_OUT ?= demo-output

.PHONY: demo test test-fast lint docs bench system-deps clean ui-screenshots

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP_BASE): pyproject.toml | $(PY)
	$(PIP) install --quiet -e .
	touch $@

$(STAMP_DEV): pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[dev]'
	touch $(STAMP_BASE) $@

demo: $(STAMP_BASE)
	$(VENV)/bin/deconflict demo --out $(DEMO_OUT)

system-deps:
	bash scripts/install-system-deps.sh

lint: $(STAMP_DEV)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy

test: $(STAMP_DEV) system-deps lint
	$(VENV)/bin/pytest -q

# The suite without the tests marked slow (statistical simulations, browsers, exhaustive tamper
# tests): for local work; `make test` runs everything.
test-fast: $(STAMP_DEV)
	$(VENV)/bin/pytest -q -m "not slow"

# Regenerate the CLI reference from --help (a test fails when it is stale).
docs: $(STAMP_DEV)
	$(VENV)/bin/cog -r docs/cli.md

# Refresh the web UI's screenshots shown in docs/server.md (every page, every scope, in Chromium).
ui-screenshots: $(STAMP_DEV)
	DECONFLICT_UI_SHOTS=docs/img/ui $(VENV)/bin/pytest -q tests/api/test_ui_pages.py

bench: $(STAMP_DEV)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .mypy_cache .ruff_cache
