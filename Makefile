# Two commands on a fresh machine: `make run` (everything up + demo) and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run stop status test unit workflows integration lint bench chaos clean

install: $(STAMP)

$(STAMP): pyproject.toml infra/install-system-deps.sh
	bash infra/install-system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Start the embedded stack and our services in the background, run the demo, print where to look.
run: install
	$(BIN)/privacyctl up

## Stop everything `make run` started, and nothing else.
stop:
	@if [ -x $(BIN)/privacyctl ]; then $(BIN)/privacyctl down; else echo "nothing installed, nothing to stop"; fi

status: install
	$(BIN)/privacyctl status

## The whole suite: unit tests, then integration tests against real servers the tests start.
test: install lint
	bash infra/install-browser.sh
	$(BIN)/python tests/run.py

unit: install
	$(BIN)/python tests/run.py tests/unit

## The workflows' own code against the Temporal dev server, with stub activities (seconds; no Kafka, no PostgreSQL).
workflows: install
	$(BIN)/python tests/run.py tests/workflows

## Benchmarks on the embedded stack: bare-Temporal ceiling vs our end-to-end, latency percentiles.
bench: install
	$(BIN)/python -m tests.bench.run

## Fault run: kill -9 and restart every process, restart Temporal, duplicates; then invariants.
## Then the fuzz run: schema-generated and mutated events on every input topic, each accounted for.
chaos: install
	$(BIN)/python -m tests.chaos.run
	$(BIN)/python -m tests.chaos.fuzz

lint: install
	$(BIN)/ruff check schemas orchestrator workers infra tests
	$(BIN)/mypy schemas orchestrator workers infra
	$(BIN)/lint-imports --no-logo
	@! git grep -n -E '^(<<<<<<<|>>>>>>>)( |$$)' -- . || { echo 'merge conflict markers left (above)'; exit 1; }

clean: stop
	rm -rf .state
