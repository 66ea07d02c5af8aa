# Two entry points for a fresh machine: `make run` and `make test`. Each installs what it needs into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium

.PHONY: run test test-fast install clean-venv

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned, so pip takes the local CPU build here and PyPI's CUDA build on a GPU machine.
	$(BIN)/pip install --quiet "torch==2.13.0"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/lso app $(APP_ARGS)

# Debian's chromium for the one real-browser test (tests/test_browser.py); installed only where we are root.
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's chromium for the browser test"; \
	  apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1 || \
	  (apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends chromium >/dev/null); \
	else echo "note: $(CHROMIUM) missing and not root: the browser test is skipped (it fails in CI)"; fi

test: $(STAMP) $(CHROMIUM)
	$(BIN)/python -m pytest -q tests

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow" tests

clean-venv:
	rm -rf $(VENV)
