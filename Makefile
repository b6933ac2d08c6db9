# Two commands do everything: `make run` (the app, SQLite, demo data) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench mutate clean

run: $(STAMP)
	$(BIN)/openrehab serve --demo-patients 6 $(ARGS)

# One pytest worker per core (pytest-xdist); PYTEST_ARGS= runs in one process.
PYTEST_ARGS ?= -n auto

test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

bench: $(STAMP)
	$(BIN)/openrehab bench count

# Mutation testing of one package with its tests, e.g. `make mutate PKG=motion` or
# PKG=motion/metrics.py (docs/testing.md). Not part of `make test`: it takes minutes to hours.
mutate: $(STAMP) $(VENV)/.mutation-installed
	@test -n "$(PKG)" || { echo "usage: make mutate PKG=motion (a package or module under src/openrehab, or all)"; exit 2; }
	$(BIN)/python tools/mutate.py $(PKG) $(MUTATE_ARGS)

$(VENV)/.mutation-installed: pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test,video,mutation]"
	touch $@

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("OpenRehab needs Python 3.11 or newer.") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,video]"
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis .mutmut
