# Both entry points bootstrap their own virtual environment from nothing but python3 and pip.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench oracle clean chromium

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,go]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The report's browser test drives Debian's chromium through Playwright. Installed once, when missing;
# where apt-get cannot install it (no root, no Debian), that one test is skipped and says why.
chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || echo "chromium could not be installed: the browser test will be skipped"

unit: $(STAMP) chromium
	$(BIN)/pytest -n 2 -q

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python bench/model_vs_runtime.py

oracle: $(STAMP)
	$(BIN)/python scripts/gen_oracle_fixtures.py
	$(BIN)/python scripts/list_oracle_deviations.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info
