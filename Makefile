# TiffTock: `make run` serves the API and the scheduler; `make test` runs the tests.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app app:create_app

.PHONY: install env db run test bench clean

$(STAMP): requirements.txt examples/tifftock-example-process/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e examples/tifftock-example-process
	touch $(STAMP)

install: $(STAMP)

env: install
	$(BIN)/python scripts/make_env.py

db: env
	mkdir -p instance
	$(FLASK) db upgrade

run: db
	$(BIN)/python scripts/run.py

test: db
	$(BIN)/python -m pytest

bench: db
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache
