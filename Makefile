# The few commands a developer types. `make demo` and `make test` work on a fresh clone.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock requirements-assets.txt pyproject.toml | sha256sum | cut -c1-12)
export MUJOCO_GL ?= egl

.PHONY: setup demo test lint bench clean

$(STAMP): requirements.lock requirements-assets.txt pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip==24.3.1
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -r requirements-assets.txt
	$(BIN)/pip install -q --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

setup: $(STAMP)

## the main job end to end on the offline defaults
demo: setup
	$(BIN)/exoactor run "pick up the bottle and put it in the basket" --scene pick_place_basket

test: setup
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q -p no:cacheprovider --timeout=600

lint: setup
	$(BIN)/ruff format --check src tests && $(BIN)/ruff check src tests

bench: setup
	$(BIN)/exoactor bench --tier all --seeds 5 --out benchmarks/results/bench.jsonl

clean:
	rm -rf $(VENV) runs
