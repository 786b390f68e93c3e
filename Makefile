# Two entry points work on a fresh clone: `make run` and `make test`.
# Everything lives in .venv; the setup step reruns only when pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.setup-stamp
HOST   ?= 127.0.0.1
PORT   ?= 7860

.PHONY: setup ingest run serve test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

ingest: setup
	$(BIN)/rag ingest corpus

run: ingest
	@$(BIN)/rag status
	@echo
	@echo 'Ask from the command line, e.g.:'
	@echo '  $(BIN)/rag ask "how many H100s does Meta plan to have?"'
	@echo
	@echo 'Chat in the browser: http://$(HOST):$(PORT)  (Ctrl-C stops the server)'
	$(BIN)/rag serve --host $(HOST) --port $(PORT)

serve: setup
	$(BIN)/rag serve --host $(HOST) --port $(PORT)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest

test: lint typecheck pytest

bench: setup
	$(BIN)/python -m pip install -qq -e '.[dev,bench]'
	$(BIN)/python bench/run.py

clean:
	rm -rf .rag test-artifacts bench/out
