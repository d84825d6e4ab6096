# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
# The integration layer runs against the real services on loopback.
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
REDIS_URL_TEST ?= redis://127.0.0.1:6379/0

.PHONY: venv demo test lint test-unit test-integration test-e2e chaos screenshots services chromium bench clean fuzz

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

demo: venv
	PORT=$(PORT) $(PY) manage.py demo

test: venv services chromium
	$(MAKE) lint test-unit test-integration chaos test-e2e

# Style and likely bugs (ruff), the layers of docs/ARCHITECTURE.md (import-linter's contracts in
# pyproject.toml), and models that match their migrations.
lint: venv
	$(VENV)/bin/ruff check restoration webapp tests manage.py scripts
	$(VENV)/bin/lint-imports
	DATABASE_URL=sqlite://:memory: $(PY) manage.py makemigrations --check --dry-run

# Tests run two pytest workers on two cores: one torch thread each, or they fight.
test-unit test-integration test-e2e chaos screenshots: export OMP_NUM_THREADS = 1

test-unit: venv
	$(PY) -m pytest -q -m "not integration and not e2e and not chaos" -n 2

# The web suite again, on the real PostgreSQL and Redis, plus the tests that need them.
test-integration: venv services
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_URL_TEST) $(PY) -m pytest -q -n 2 -m "not e2e and not embedded" tests/webapp

# The API fuzzed from its OpenAPI schema (tests/webapp/test_fuzz.py, also in test-integration with
# 10 examples an operation), here with 100: no 5xx, only documented statuses and bodies.
FUZZ_MAX_EXAMPLES ?= 100
fuzz: venv services
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_URL_TEST) FUZZ_MAX_EXAMPLES=$(FUZZ_MAX_EXAMPLES) OMP_NUM_THREADS=1 \
		$(PY) -m pytest -q -n 2 tests/webapp/test_fuzz.py

# Faults on a PostgreSQL and a Redis of its own (stopped and started by the tests, never the
# shared ones), with real workers killed mid-job; prints the time to recover from each fault.
chaos: venv
	$(PY) -m tests.chaos.run

test-e2e: venv chromium
	$(PY) -m pytest -q -m e2e

# The browser tests again, saving their screenshots over the README's in docs/img/.
screenshots: venv chromium
	E2E_SCREENSHOTS=$(CURDIR)/docs/img $(PY) -m pytest -q -m e2e

services:
	bash scripts/ensure-services.sh

chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# Idle OpenMP threads sleep instead of spinning: on a shared CPU spinning costs more than it saves.
bench: export OMP_WAIT_POLICY = PASSIVE
bench: venv services
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test,bench]'  # PySceneDetect, the shots part's baseline
	$(PY) -m restoration bench
	$(PY) manage.py bench_catalogue
	DATABASE_URL=$(PG_URL) $(PY) manage.py bench_catalogue
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_URL_TEST) $(PY) manage.py bench_jobs
	$(PY) manage.py bench_review
	$(PY) manage.py bench_colour

clean:
	rm -rf $(VENV) var media
