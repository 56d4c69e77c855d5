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
	EXCHANGE_MONITORING__SCRAPE_INTERVAL_S=5 EXCHANGE_MONITORING__EVALUATION_INTERVAL_S=5 \
	  $(BIN)/exchange monitoring up
	EXCHANGE_METRICS_PORT=19101 $(BIN)/exchange demo
	sleep 10  # one more scrape and rule evaluation
	$(BIN)/exchange monitoring alerts --minutes 30

test: install
	$(BIN)/exchange schemas check
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

bench: install
	$(BIN)/python -m benchmarks.codec_and_bus

broker-down: install
	-$(BIN)/exchange monitoring down
	$(BIN)/exchange broker down

clean: broker-down
	rm -rf .state
