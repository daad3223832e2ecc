# Two commands do all the set-up on a fresh machine:
#   make demo   build the demo tenant store and open the dashboard (no Microsoft account needed)
#   make test   lint, type-check, check layering, run the test suite
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The test extra includes the sim extra (the Graph simulator's packages), which `make demo` needs too.
$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

.PHONY: install demo test lint typecheck layers pytest browser postgres
install: $(STAMP)

# The browser tests use Debian's Chromium (browser downloads are impossible here). Installed when
# missing and we are root; otherwise those tests skip and say why.
browser:
	@if [ ! -x /usr/lib/chromium/chromium ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
				|| echo "note: could not install Chromium; browser tests will be skipped"; \
		else echo "note: Chromium is not installed; browser tests will be skipped (apt-get install chromium)"; fi; \
	fi

# The store tests also run on PostgreSQL: Debian's server package, started by the tests themselves
# on a private data directory (tests/helpers/pgserver.py). Installed when missing and we are root.
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
				|| echo "note: could not install PostgreSQL; its half of the store tests will be skipped"; \
		else echo "note: PostgreSQL is not installed; its half of the store tests will be skipped (apt-get install postgresql)"; fi; \
	fi

demo: $(STAMP)
	$(BIN)/license-desk demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

# One pytest-xdist worker per core. --dist loadgroup keeps each xdist_group (the kill points, the
# secrets scan, the servers on picked ports, the timing tests) whole on one worker.
pytest: $(STAMP) browser postgres
	$(BIN)/pytest -n auto --dist loadgroup

test: lint typecheck layers pytest
