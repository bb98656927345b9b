# Every target works on a brand-new machine: it makes .venv and installs what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOME_DIR ?= .webui-home

.PHONY: run test check bench soak lint typecheck chromium wrk screenshot clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,bench,dev]'
	touch $(STAMP)

# Debian's chromium for the browser tests (Playwright's own download cannot work offline).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null; }

wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "installing Debian's wrk"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

$(HOME_DIR)/state.db: | $(STAMP)
	$(BIN)/python -m webui demo --home $(HOME_DIR) --profiles 3 --sessions 2000

run: $(STAMP) $(HOME_DIR)/state.db
	$(BIN)/python -m webui serve --home $(HOME_DIR) --claude-home $(HOME_DIR)/claude

test: $(STAMP) chromium
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff format --check webui tests
	$(BIN)/ruff check webui tests

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

bench: $(STAMP) wrk
	$(BIN)/python -m webui bench

soak: $(STAMP) wrk
	$(BIN)/python -m webui bench --soak

screenshot: $(STAMP) chromium
	WEBUI_SCREENSHOT=1 $(BIN)/python -m pytest -q tests/browser/test_screenshot.py

clean:
	rm -rf $(VENV) $(HOME_DIR)
