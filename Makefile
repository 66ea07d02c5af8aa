# Two entry points for a fresh machine: `make run` and `make test`. Each installs what it needs into .venv:
# `make run` lso with the app extra (streamlit), `make test` with the dev extra (app, ray, pytest, notebooks, browser).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
APP_STAMP := $(VENV)/.installed-app
DEV_STAMP := $(VENV)/.installed-dev
CHROMIUM := /usr/bin/chromium

.PHONY: run test test-fast install install-dev clean-venv

# The venv, pip, and torch first, pinned, so pip takes the local CPU build here and PyPI's CUDA build on a GPU
# machine (on a CPU-only machine elsewhere see the README: the CPU build comes from PyTorch's own index).
define venv_and_torch
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "torch==2.13.0"
endef

$(APP_STAMP): pyproject.toml
	$(venv_and_torch)
	$(BIN)/pip install --quiet -e ".[app]"
	touch $(APP_STAMP)

# dev includes app, so a venv set up for `make test` serves `make run` too.
$(DEV_STAMP): pyproject.toml
	$(venv_and_torch)
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(DEV_STAMP) $(APP_STAMP)

install: $(APP_STAMP)

install-dev: $(DEV_STAMP)

run: $(APP_STAMP)
	$(BIN)/lso app $(APP_ARGS)

# Debian's chromium for the one real-browser test (tests/app/test_browser.py); installed only where we are root.
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's chromium for the browser test"; \
	  apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 || \
	  (apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends chromium >/dev/null); \
	else echo "note: $(CHROMIUM) missing and not root: the browser test is skipped (it fails in CI)"; fi

test: $(DEV_STAMP) $(CHROMIUM)
	$(BIN)/python -m pytest -q tests

test-fast: $(DEV_STAMP)
	$(BIN)/python -m pytest -q -m "not slow" tests

clean-venv:
	rm -rf $(VENV)
