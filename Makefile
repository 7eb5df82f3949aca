# hikube-gpu — quick start: `make preview` (offline preview of the dev stack), `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STACK  ?= dev
OUT    ?= out/$(STACK)

.PHONY: preview render test lint typecheck unit clean

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

preview: $(VENV)/.runtime ## offline preview of STACK (default dev): tree, GPU capacity, warnings
	$(PY) -m stacks preview --stack $(STACK)

render: $(VENV)/.runtime ## write STACK's Kubernetes objects as YAML under OUT
	$(PY) -m stacks render --stack $(STACK) --out $(OUT)

test: lint typecheck unit ## everything CI runs

lint: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(VENV)/.dev
	$(PY) -m mypy

unit: $(VENV)/.dev
	$(PY) -m pytest

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
