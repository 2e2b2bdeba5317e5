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
# Whole files per worker: a file's module-scoped servers and worker pairs start once, not once per worker
# that gets some of its tests; in the order tests/conftest.py sorts them (the slow files first).
PYTEST_DIST ?= loadfile
# Python's own default: compiled modules are kept in __pycache__ (git-ignored). An environment that forbids it
# (this machine's sets PYTHONDONTWRITEBYTECODE=1) makes every process compile PCloud from source, and every pytest
# worker rewrite every test module's asserts again: 4 s of each worker's start, 0.1 s of each server's.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test test-sqlite test-postgres lint bench install vendor-codemirror catalogue

install: $(STAMP)

# Running needs only the runtime dependencies; the tests add the [dev] extra. pip's errors only (-qq): setuptools
# prints a banner on every editable install, which would push `make run`'s first password up the screen.
$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -qq --upgrade pip
	$(BIN)/pip install -qq -e .
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP)
	$(BIN)/pip install -qq -e '.[dev]'
	touch $(STAMP)

## make run: PCloud on SQLite in instance/: web on http://127.0.0.1:5000 and the job worker (Ctrl-C stops both)
run: $(RUN_STAMP)
	$(BIN)/pcloud init
	@$(BIN)/python -c "$$SIGN_IN_LINES" &
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/honcho start -f Procfile

# Printed by a helper once the web server answers, so that how to sign in is the last thing on the screen
# (the password the first `pcloud init` printed stays a few lines above it).
define SIGN_IN_LINES
import os, time, urllib.request
host, port = os.environ["PCLOUD_BIND"], os.environ["PORT"]
phone = os.environ.get("PCLOUD_ADMIN_PHONE") or "13800000000"
url = f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}"
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    try:
        urllib.request.urlopen(url + "/login", timeout=5).close()
        break
    except OSError:
        time.sleep(0.3)
else:
    raise SystemExit(0)
print(f"""
PCloud is up on {url} (Ctrl-C stops it); API docs: {url}/api/docs
Sign in with phone {phone} and the password printed above by the first 'pcloud init'
(or PCLOUD_ADMIN_PASSWORD if you set it). Lost it? .venv/bin/pcloud reset-password --phone {phone}
""", flush=True)
endef
export SIGN_IN_LINES

## make test: lint, then the whole suite on SQLite (with the browser tests) and, at the same time, again on
## PostgreSQL when PCLOUD_TEST_PG_URL names a server (CI always gives one): the tests that touch a database
## (the `no_database` ones, such as building a wheel, check the same thing on both passes). Each pass's
## output is printed when it ends. Run at once, the passes fill each other's waits (live servers booting,
## worker processes, the browser); how long it takes is in docs/BENCHMARKS.md (over 20 minutes on two cores now).
test: $(STAMP) lint
	@echo "The SQLite and PostgreSQL passes run at once; each one's output follows when it ends."
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

lint: $(STAMP)
	$(BIN)/ruff check .

test-sqlite: $(STAMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist $(PYTEST_DIST) --no-loadscope-reorder -p no:cacheprovider

test-postgres: $(STAMP)
	@if [ -n "$$PCLOUD_TEST_PG_URL" ]; then \
	  PCLOUD_TEST_DATABASE_URL="$$PCLOUD_TEST_PG_URL" $(BIN)/pytest -n $(PYTEST_WORKERS) --dist $(PYTEST_DIST) --no-loadscope-reorder -p no:cacheprovider -m "not browser and not no_database"; \
	else echo "PCLOUD_TEST_PG_URL not set: PostgreSQL pass skipped (CI runs it)"; fi

## make catalogue: collect the marked strings of pcloud/, templates/ and the scripts, update the English
## catalogues in pcloud/translations (new strings come untranslated: fill their msgstr) and compile them
## (tests/test_i18n.py fails on a missing or stale translation)
BABEL_UPDATE := --no-fuzzy-matching --ignore-obsolete --omit-header --no-wrap --init-missing
catalogue: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k lazy_gettext -k lazy_pgettext:1c,2 --no-location --sort-output --no-wrap -o .messages.pot .
	$(BIN)/pybabel -q extract -F babel-js.cfg --no-location --sort-output --no-wrap -o .js.pot .
	$(BIN)/pybabel -q update -i .messages.pot -d pcloud/translations -l en -D messages $(BABEL_UPDATE)
	$(BIN)/pybabel -q update -i .js.pot -d pcloud/translations -l en -D js $(BABEL_UPDATE)
	rm -f .messages.pot .js.pot
	$(BIN)/pybabel -q compile --use-fuzzy -d pcloud/translations -l en -D messages
	$(BIN)/pybabel -q compile --use-fuzzy -d pcloud/translations -l en -D js

## make bench: every benchmark, each against its baseline in the same run (several minutes; loopback only)
bench: $(STAMP)
	$(BIN)/python bench/user_page.py
	$(BIN)/python bench/user_export.py
	$(BIN)/python bench/permission_check.py
	$(BIN)/python bench/dept_filter.py
	$(BIN)/python bench/segment_ids.py
	$(BIN)/python bench/scheduler.py
	$(BIN)/python bench/action_log.py

## make vendor-codemirror: fetch the script editor (CodeMirror 5) from the npm registry into pcloud/static/vendor
CODEMIRROR_VERSION ?= 5.65.21
CM_DIR := pcloud/static/vendor/codemirror
vendor-codemirror:
	rm -rf .cm-tmp && mkdir .cm-tmp
	cd .cm-tmp && npm pack --silent codemirror@$(CODEMIRROR_VERSION) && tar xzf codemirror-$(CODEMIRROR_VERSION).tgz
	rm -rf $(CM_DIR) && mkdir -p $(CM_DIR)/lib $(CM_DIR)/mode/python $(CM_DIR)/mode/shell $(CM_DIR)/addon/selection
	cp .cm-tmp/package/LICENSE $(CM_DIR)/
	cp .cm-tmp/package/lib/codemirror.js .cm-tmp/package/lib/codemirror.css $(CM_DIR)/lib/
	cp .cm-tmp/package/mode/python/python.js $(CM_DIR)/mode/python/
	cp .cm-tmp/package/mode/shell/shell.js $(CM_DIR)/mode/shell/
	cp .cm-tmp/package/addon/selection/active-line.js $(CM_DIR)/addon/selection/
	echo "codemirror $(CODEMIRROR_VERSION) (npm registry), fetched by: make vendor-codemirror" > $(CM_DIR)/VERSION
	rm -rf .cm-tmp
