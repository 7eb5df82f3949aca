# hikube-gpu — quick start: `make preview` (offline preview of the dev stack), `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
CLI    := $(VENV)/bin/hikube-gpu
STACK  ?= dev
OUT    ?= out/$(STACK)
BASE   ?= origin/main
STATE  := $(CURDIR)/.pulumi-state

.PHONY: preview render diff test lint typecheck unit docs docs-serve docs-gen clean login-local login-s3 bench bench-diff bench-peers bench-fleet

$(VENV)/.runtime: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .  # the hikube-gpu command
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

preview: $(VENV)/.runtime ## offline preview of STACK (default dev): tree, GPU capacity, warnings
	$(CLI) preview --stack $(STACK)

render: $(VENV)/.runtime ## write STACK's Kubernetes objects as YAML under OUT
	$(CLI) render --stack $(STACK) --out $(OUT)

diff: $(VENV)/.runtime ## manifest diff of every stack: BASE (default origin/main) vs the working tree
	@echo "$(CLI) diff --base $(BASE)"
	@$(CLI) diff --base $(BASE); status=$$?; case $$status in \
	  0) echo "make diff: no changes";; \
	  1) echo "make diff: changes found (hikube-gpu diff exits 1 for them, which CI reads)";; \
	  *) exit $$status;; esac

login-local: ## Pulumi state in .pulumi-state/ next to the project (git-ignored; needs the pulumi CLI)
	mkdir -p $(STATE)
	pulumi login file://$(STATE)

login-s3: ## Pulumi state in an S3-compatible bucket: make login-s3 BUCKET=name ENDPOINT=host
	@test -n "$(BUCKET)" -a -n "$(ENDPOINT)" || { echo "usage: make login-s3 BUCKET=<bucket> ENDPOINT=<s3 host>"; exit 2; }
	pulumi login 's3://$(BUCKET)?endpoint=$(ENDPOINT)&s3ForcePathStyle=true'

bench: $(VENV)/.runtime ## preview cost vs the floor at 10/100/1000 VMs, scaling, start-up, memory; the diff; the peers; the fleet
	$(PY) -m benchmarks.preview_bench --repeat 3 --json benchmarks/results/preview.json
	$(PY) -m benchmarks.diff_bench --repeat 2 --json benchmarks/results/diff.json
	$(MAKE) bench-peers
	$(MAKE) bench-fleet

bench-fleet: $(VENV)/.runtime ## changed and diff on fleets of 1,000 and 5,000 stacks vs their floor; writes the JSON and the docs table
	$(PY) -m benchmarks.fleet_bench --json benchmarks/results/fleet.json
	$(PY) -m benchmarks.fleet_table

bench-peers: $(VENV)/.runtime ## this project vs cdk8s, raw pulumi_kubernetes and plain dicts; writes the JSON and the docs table
	@if command -v node >/dev/null; then $(PY) -m pip install --quiet --disable-pip-version-check -r benchmarks/requirements-peers.txt || echo "cdk8s could not be installed: the benchmark skips it"; else echo "Node.js not found: the benchmark skips cdk8s"; fi
	$(PY) -m benchmarks.peers_bench --json benchmarks/results/peers.json
	$(PY) -m benchmarks.peers_table

bench-diff: $(VENV)/.runtime ## time the manifest diff: examples sequential vs parallel, 50 stacks vs 1
	$(PY) -m benchmarks.diff_bench --json benchmarks/results/diff.json

.PHONY: fuzz
fuzz: $(VENV)/.dev ## mutation fuzzer: 5,000 mutated stack files through the loader, program, CLI and diff
	$(PY) -m tests.fuzz_mutation --cases $(or $(CASES),5000) --json benchmarks/results/fuzz.json

test: lint typecheck unit docs ## everything CI runs

lint: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(VENV)/.dev
	$(PY) -m mypy
	cd policy && ../$(PY) -m mypy --config-file ../pyproject.toml catalog_tables.py shapes.py secret_values.py gpu_rules.py stack_rules.py gpu_policies.py __main__.py
	$(PY) -m mypy policy/generate_tables.py

unit: $(VENV)/.dev
	$(PY) -m pytest

docs: $(VENV)/.dev ## build the documentation site into site/ (strict: any warning fails, a broken link or anchor)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict  # no --quiet: it hides the warnings strict counts (mkdocs#4126)

docs-serve: $(VENV)/.dev ## serve the site on http://127.0.0.1:8000, rebuilt on every edit (Ctrl-C stops it)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs serve --dev-addr 127.0.0.1:8000

docs-gen: $(VENV)/.dev ## regenerate docs/reference, the pictures and schema/ from the code
	$(PY) -m tools.gen_docs

clean:
	rm -rf $(VENV) out site .pytest_cache .mypy_cache .ruff_cache
