# The two commands a newcomer needs: `make run` and `make test`.
# Both install what is missing, and start PostgreSQL themselves unless DATABASE_URL is set.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
export HOST PORT

.PHONY: help install test test-quick lint run migrate torture clean bench bench-quick bench-profile evaluate

help:
	@echo "make run      start the service with demo data on http://$(HOST):$(PORT)/"
	@echo "              PARTITIONS=N make run: over a PL/Proxy proxy and N partitions in .pgcluster/"
	@echo "              HA=1 make run: over a primary, a synchronous standby and a monitor in .pgha/"
	@echo "make test     run the pgTAP and pytest suites against a throwaway PostgreSQL"
	@echo "make test-quick  the same without the end-to-end tier (tests/py/e2e): the edit loop"
	@echo "make lint     ruff check and ruff format --check"
	@echo "make migrate  apply migrations and functions to DATABASE_URL (or the embedded database)"
	@echo "make torture  fault-injection workload and invariant checker (TORTURE_DURATION=180 seconds;"
	@echo "              PARTITIONS=4: through a 4-partition cluster, partitions crashed and a shop moved;"
	@echo "              HA=1: over a primary and a standby, the primary lost again and again, 240 s)"
	@echo "make bench    engine and service vs the physical limit (~35 min); writes docs/BENCHMARKS.md"
	@echo "make bench-quick  the same scenarios, short (~2 min)"
	@echo "make bench-profile  py-spy flame graphs of the service under load (docs/bench/)"
	@echo "make evaluate  the buffer recommendations and the conflict model on a seeded history (docs/LEARNING.md)"
	@echo "make clean    remove .venv/, the embedded database in .pgdata/, the cluster in .pgcluster/ and .pgha/"

install:
	@scripts/bootstrap.sh

test:
	@scripts/bootstrap.sh --with-pgtap
	@scripts/with-db.sh throwaway scripts/run-tests.sh $(PYTEST_ARGS)

test-quick:
	@scripts/bootstrap.sh --with-pgtap
	@scripts/with-db.sh throwaway scripts/run-tests.sh -m "not e2e" $(PYTEST_ARGS)

lint: install
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .

migrate: install
	@scripts/with-db.sh embedded $(PY) -m app migrate

# PARTITIONS=N make run: the same service over a cluster in $(CLUSTER_DIR) (a PL/Proxy proxy
# and N partitions, each its own PostgreSQL; docs/SCALING.md), given the proxy's URL.
CLUSTER_DIR ?= .pgcluster
# HA=1 make run: over a pg_auto_failover formation in $(HA_DIR) (a monitor, a primary and a
# synchronous standby; docs/RELIABILITY.md), given its multi-host URL.
HA_DIR ?= .pgha
run: install
ifdef HA
	@$(PY) -m app ha up --dir $(HA_DIR)
	@DATABASE_URL="$$($(PY) -m app ha status --dir $(HA_DIR) | awk '$$1 == "url" {print $$2}')" CHANGE_FEED=outbox scripts/serve.sh
else ifdef PARTITIONS
	@$(PY) -m app cluster up --dir $(CLUSTER_DIR) --partitions $(PARTITIONS)
	@DATABASE_URL="$$($(PY) -m app cluster status --dir $(CLUSTER_DIR) | awk '$$1 == "proxy" {print $$2}')" scripts/serve.sh
else
	@scripts/with-db.sh embedded scripts/serve.sh
endif

torture: install
	@$(PY) -m torture.runner --duration $${TORTURE_DURATION:-$(if $(HA),240,180)}$(if $(PARTITIONS), --partitions $(PARTITIONS))$(if $(HA), --ha)

bench:
	@scripts/bootstrap.sh
	@bench/install-tools.sh
	@BENCH_COMMAND="make bench" $(PY) -m bench.run --mode full
	@$(PY) -m bench.profile

bench-profile:
	@scripts/bootstrap.sh
	@bench/install-tools.sh
	@$(PY) -m bench.profile

bench-quick:
	@scripts/bootstrap.sh
	@bench/install-tools.sh
	@BENCH_COMMAND="make bench-quick" $(PY) -m bench.run --mode quick

# The learners measured on history they did not see (docs/LEARNING.md): a seeded generated
# history, or a shop's own with EVALUATE_TRACE=file.csv; writes docs/learning/.
evaluate: install
	@$(PY) -m app.learning.evaluate $(if $(EVALUATE_TRACE),--trace $(EVALUATE_TRACE))

clean:
	-@scripts/pg.sh stop .pgdata
	-@[ ! -f .pgcluster/cluster.json ] || $(PY) -m app cluster down --dir .pgcluster >/dev/null
	-@[ ! -f .pgha/ha.json ] || $(PY) -m app ha down --dir .pgha >/dev/null
	rm -rf $(VENV) .pgdata .pgcluster .pgha test-output
