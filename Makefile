# testyard: `make run` starts it, `make test` proves it. Both set everything up first.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test soak setup web lint typecheck system-packages clean

run: setup web
	$(VENV)/bin/testyard serve --host 127.0.0.1 --port $(PORT)

test: setup web system-packages
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests
	$(VENV)/bin/mypy
	cd web && npx vitest run
	$(VENV)/bin/python -m pytest -n auto $(PYTEST_ARGS)

# Longer checks under load, not part of `make test` (bench/README.md): many WebSocket
# clients on one big run, many API clients for a minute, memory over 100 runs, and the
# API fuzzed with more examples and a random seed (past the tests' 120 s timeout). Each
# runs even when one before it failed; the target fails if any did. About 10 minutes
# on 2 cores.
soak: setup
	@failed=""; \
	$(VENV)/bin/python bench/soak_websockets.py || failed="$$failed soak_websockets"; \
	$(VENV)/bin/python bench/soak_api.py || failed="$$failed soak_api"; \
	$(VENV)/bin/python bench/soak_memory.py || failed="$$failed soak_memory"; \
	TESTYARD_FUZZ_EXAMPLES=100 TESTYARD_FUZZ_SEED=random \
		$(VENV)/bin/python -m pytest --timeout 1800 tests/integration/api/test_schema_fuzz.py \
		|| failed="$$failed fuzz"; \
	if [ -n "$$failed" ]; then echo "soak failed:$$failed" >&2; exit 1; fi

setup: $(VENV)/.synced

# uv itself lives in a small bootstrap environment, so nothing is installed globally.
$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

# The web UI, built into the package (src/testyard/webui/static). Its TypeScript types
# come from the API's OpenAPI document of this very checkout, so the type check fails
# when the UI uses a field the API no longer has.
web: setup web/node_modules/.installed
	$(VENV)/bin/testyard openapi web/openapi.json
	cd web && npm run build

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

# What the tests start themselves: PostgreSQL's server binaries, Redis, Chromium (and a
# Chinese font, so screenshots of the Chinese UI are legible).
system-packages:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	fc-list :lang=zh 2>/dev/null | grep -q . || missing="$$missing fonts-wqy-zenhei"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		else \
			echo "missing:$$missing (sudo apt-get install$$missing)" >&2; exit 1; \
		fi; \
	fi

lint:
	$(VENV)/bin/ruff check src tests && $(VENV)/bin/ruff format --check src tests

typecheck:
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) $(TOOLS) testyard-data web/node_modules src/testyard/webui/static test-output
