# kdebug — two commands on a fresh machine:
#   make demo   set up .venv and diagnose the bundled scenarios (no cluster needed)
#   make test   run the test suite
VENV   ?= .venv
PYTHON ?= python3
BIN     = $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)

.PHONY: demo test venv clean

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

# kubectl why finds problems in the scenarios, so it exits 1: that is the expected outcome here.
demo: venv
	@if command -v kubectl >/dev/null 2>&1; then kubectl why -f scenarios/ -A; \
	 else kubectl-why -f scenarios/ -A; fi; rc=$$?; [ $$rc -le 1 ]

test: venv
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) build dist *.egg-info
