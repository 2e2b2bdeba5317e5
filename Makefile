# The README's two commands are `make run` and `make test`; the rest are helpers.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
PORT ?= 5000
PCLOUD_BIND ?= 127.0.0.1
export PORT PCLOUD_BIND
PYTEST_WORKERS ?= 2

.PHONY: run test test-sqlite test-postgres lint bench install

install: $(STAMP)

# Running needs only the runtime dependencies; the tests add the [dev] extra.
$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## make run: PCloud on SQLite in instance/: web on http://127.0.0.1:5000 (and the worker, when present)
run: $(RUN_STAMP)
	$(BIN)/pcloud init
	@echo ""
	@echo "PCloud is starting on http://$(PCLOUD_BIND):$(PORT)  (Ctrl-C stops it); API docs: http://$(PCLOUD_BIND):$(PORT)/api/docs"
	@echo "Sign in with phone $${PCLOUD_ADMIN_PHONE:-13800000000} and the password that the first 'pcloud init' printed above"
	@echo "(or PCLOUD_ADMIN_PASSWORD if you set it). Lost it? $(BIN)/pcloud reset-password --phone $${PCLOUD_ADMIN_PHONE:-13800000000}"
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/honcho start -f Procfile

## make test: lint, the whole suite on SQLite (with the browser tests), then again on PostgreSQL
## when PCLOUD_TEST_PG_URL names a server (CI always gives one).
test: $(STAMP) lint test-sqlite test-postgres

lint: $(STAMP)
	$(BIN)/ruff check .

test-sqlite: $(STAMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

test-postgres: $(STAMP)
	@if [ -n "$$PCLOUD_TEST_PG_URL" ]; then \
	  PCLOUD_TEST_DATABASE_URL="$$PCLOUD_TEST_PG_URL" $(BIN)/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider -m "not browser"; \
	else echo "PCLOUD_TEST_PG_URL not set: PostgreSQL pass skipped (CI runs it)"; fi

## make bench: every benchmark, each against its baseline in the same run (several minutes; loopback only)
bench: $(STAMP)
	$(BIN)/python bench/user_page.py
	$(BIN)/python bench/user_export.py
	$(BIN)/python bench/permission_check.py
	$(BIN)/python bench/dept_filter.py
	$(BIN)/python bench/segment_ids.py
	$(BIN)/python bench/scheduler.py
	$(BIN)/python bench/action_log.py
