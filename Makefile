# yiwang (一网) — entry points. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV ?= $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
N ?= 1000
# Every benchmark `make bench` runs; a new bench adds its target here.
BENCHES ?= bench-e2e bench-search bench-identity bench-workflow bench-supervision
# server: DATABASE_URL or the machine's PostgreSQL; embedded: one started as `make dev` does.
BENCH_DB ?= server
# Playwright drives Debian's chromium (tests/browser); it must never download a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

.PHONY: uv
uv:
	@command -v uv >/dev/null 2>&1 || [ -x "$(UV)" ] || python3 -m pip install --quiet uv || pip install --quiet --user uv

.PHONY: install
install: uv ## Install every package and dev tool into .venv (one lockfile)
	@# Bytecode ahead of time: with PYTHONDONTWRITEBYTECODE set (as here) every service process
	@# otherwise compiled SQLAlchemy, FastAPI and pydantic from source, 60 % of its start-up.
	@$(UV) sync --all-packages --frozen --quiet --compile-bytecode
	@$(UV) run --frozen python -m compileall -q libs/contracts/src libs/sdk/src libs/common/src services/*/src scripts >/dev/null
	@# The PDF service guides embed a CJK font; without one they refuse to render (no tofu).
	@bash scripts/ensure_fonts.sh || echo "[make install] WARNING: no CJK font; PDF guides will answer 503" >&2

.PHONY: dev
dev: install ## Run the whole suite here (embedded PostgreSQL + NATS under var/ unless DATABASE_URL / NATS_URL; several platforms: PLATFORMS=province=530000,city=530400 PLATFORM_MODE=统分)
	@$(UV) run --frozen python -m scripts.stack dev

.PHONY: demo
demo: install ## With `make dev` running: drive the flow through the public APIs and print the timeline
	@$(UV) run --frozen python -m scripts.demo

.PHONY: test
test: install ## Run every test suite on real PostgreSQL and NATS JetStream (starts them if needed)
	@$(UV) run --frozen python -m scripts.run_tests

.PHONY: lint
lint: install ## ruff, mypy --strict on every package (libs/contracts, libs/sdk, libs/common and the four services), import contracts
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .
	@$(UV) run --frozen mypy libs/contracts/src libs/sdk/src
	@$(UV) run --frozen mypy libs/common/src
	@$(UV) run --frozen mypy services/gateway/src services/management/src services/business/src services/data-sharing/src
	@$(UV) run --frozen lint-imports

.PHONY: format
format: install ## Format and auto-fix
	@$(UV) run --frozen ruff format .
	@$(UV) run --frozen ruff check --fix .

.PHONY: contracts
contracts: install ## Regenerate docs/events (JSON Schema + AsyncAPI) from the event contracts
	@$(UV) run --frozen python scripts/export_contracts.py

.PHONY: bench
bench: $(BENCHES) ## Every benchmark in BENCHES (bench-e2e bench-search bench-identity bench-workflow bench-supervision); results in bench/results/

.PHONY: bench-e2e
bench-e2e: install ## N applications end to end, with ceilings (N=1000; BENCH_DB=embedded for make dev's PostgreSQL)
	@BENCH_DB=$(BENCH_DB) $(UV) run --frozen python -m bench.e2e --n $(N)

.PHONY: bench-signing
bench-signing: install ## Licence signing/verification per core next to the raw Ed25519 and SM2 rates → bench/results/signing.json
	@$(UV) run --frozen python -m bench.signing

SEARCH_N ?= 100000
.PHONY: bench-search
bench-search: install ## Catalogue search at SEARCH_N items over HTTP, next to bare FastAPI → bench/results/search.json
	@$(UV) run --frozen python -m bench.search --n $(SEARCH_N)

SUPERVISION_N ?= 1000000
.PHONY: bench-supervision
bench-supervision: install ## Deadline sweep over SUPERVISION_N open cases (COPY-loaded) → bench/results/supervision.json
	@$(UV) run --frozen python -m bench.supervision --n $(SUPERVISION_N)
	@# Signing rates go into the same file: bench/signing.py merges its keys (bench.supervision.merge_results).
	@$(UV) run --frozen python -m bench.signing

CASES_N ?= 1000000
.PHONY: bench-case-list
bench-case-list: install ## A staff member's authorised case list at CASES_N cases over HTTP, next to bare FastAPI → bench/results/case_list.json
	@$(UV) run --frozen python -m bench.case_list --n $(CASES_N)

WORKFLOW_N ?= 1000
.PHONY: bench-workflow
bench-workflow: install ## Cases/s through 3-step and parallel processes, built-in engine vs SpiffWorkflow 3.2 → bench/results/workflow.json
	@$(UV) run --frozen python -m bench.workflow --n $(WORKFLOW_N)

.PHONY: bench-identity
bench-identity: install ## Sign-ins/s per core (argon2id), raw argon2id, token verifications, bare FastAPI → bench/results/identity.json
	@$(UV) run --frozen python -m bench.identity --cases $(CASES_N)

.PHONY: k8s
k8s: install ## Render every kustomize overlay
	@for o in deploy/k8s/overlays/*/; do echo "--- $$o"; .venv/bin/kubectl kustomize $$o >/dev/null && echo ok; done

.PHONY: clean
clean: ## Reset this installation: embedded PostgreSQL data, NATS store, blobs, signing key, logs (var/)
	rm -rf var/
