# The two commands of the README, and a few for development.
#   make demo   installs, starts the local Kafka broker, provisions the topology, plays the scenario
#   make test   installs, then runs every test (the tests start their own real broker)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test install lint bench broker-down clean

$(BIN)/exchange: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/exchange

demo: install
	$(BIN)/exchange broker up
	$(BIN)/exchange topology apply --replication 1
	$(BIN)/exchange demo

test: install
	$(BIN)/exchange schemas check
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

bench: install
	$(BIN)/python -m benchmarks.codec_and_bus

broker-down: install
	$(BIN)/exchange broker down

clean: broker-down
	rm -rf .state
