# The two commands of the README, and a few for development.
#   make demo   installs, starts the local Kafka broker, provisions the topology, plays the scenario
#   make test   installs, then runs every test (the tests start their own real broker)
#   make soak   the long nemesis run (>= 100,000 events, >= 30 faults; about an hour; not in CI)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test soak install system-deps lint bench broker-down clean

$(BIN)/exchange: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/exchange

# Debian packages the broker, the monitoring and the tests need (only what is missing; as root).
system-deps:
	bash .ci/install-system-deps

demo: install system-deps
	$(BIN)/exchange broker up
	$(BIN)/exchange topology apply --replication 1
	EXCHANGE_MONITORING__SCRAPE_INTERVAL_S=5 EXCHANGE_MONITORING__EVALUATION_INTERVAL_S=5 \
	  $(BIN)/exchange monitoring up
	EXCHANGE_METRICS_PORT=19101 $(BIN)/exchange demo
	sleep 10  # one more scrape and rule evaluation
	$(BIN)/exchange monitoring alerts --minutes 30

# The nemesis short run (its own three-broker cluster on EXCHANGE_TEST_BASE_PORT + 300..) runs
# first, alone: beside the suite on two cores it failed in CI (a worker exited at a leader kill)
# and, beside the soak, stalled (see RELIABILITY.md). Then the rest of the suite; both always
# run, either failing fails the target.
NEMESIS = tests/nemesis/test_short_run.py
test: install system-deps
	$(BIN)/exchange schemas check
	$(BIN)/ruff check .
	$(BIN)/mypy
	@$(BIN)/pytest -p no:cacheprovider -s $(NEMESIS); short=$$?; \
	$(BIN)/pytest --durations=40 --deselect $(NEMESIS); suite=$$?; \
	echo "=== $(NEMESIS): exit $$short; the rest of the suite: exit $$suite"; \
	test $$suite -eq 0 && test $$short -eq 0

# A three-broker cluster on EXCHANGE_TEST_BASE_PORT + 300.., two workers, the gateway and the
# file drop under load and faults; figures in .state/soak-report.md (see RELIABILITY.md).
soak: install system-deps
	PYTHONPATH=tests $(BIN)/python -m support.nemesis.run --events 100000 --faults 30 \
	  --out .state/soak-report.md

# Every benchmark in one command, each printing its targets (✓/✗) beside its figures and their
# baselines from the same run. Brokers of their own on BENCH_PORT.. (never the dev broker's).
BENCH_PORT ?= 39092
bench: install
	uptime
	$(BIN)/python -m benchmarks.codec_and_bus --state-dir .state/bench-bus --base-port $(BENCH_PORT)
	$(BIN)/python -m benchmarks.codec_steps
	$(BIN)/python -m benchmarks.worker_throughput --rate 200 --base-port $$(( $(BENCH_PORT) + 100 ))
	$(BIN)/python -m benchmarks.worker_throughput --rate 1000 --seconds 10 --base-port $$(( $(BENCH_PORT) + 100 ))
	$(BIN)/python -m benchmarks.worker_throughput --compare-protection --rate 200 --seconds 30 --records 10000 --base-port $$(( $(BENCH_PORT) + 100 ))
	$(BIN)/python -m benchmarks.worker_throughput --compare-scrape --rate 200 --seconds 30 --records 10000 --base-port $$(( $(BENCH_PORT) + 100 ))
	$(BIN)/python -m benchmarks.secure_bus --base-port $$(( $(BENCH_PORT) + 200 ))
	$(BIN)/python -m benchmarks.protection
	$(BIN)/python -m benchmarks.worker_protection
	uptime

broker-down: install
	-$(BIN)/exchange monitoring down
	$(BIN)/exchange broker down

clean: broker-down
	rm -rf .state
