# wharf — a Dagster lakehouse on Kubernetes. `make` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
RUN := $(UV) run --frozen
export WHARF_CACHE ?= $(HOME)/.cache/wharf
export UV_CACHE_DIR ?= $(WHARF_CACHE)/uv
PYTEST := $(RUN) pytest

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: install
install: ## Install uv if missing and sync the workspace from uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) sync --frozen

.PHONY: dbt-manifest
dbt-manifest: install ## Parse the dbt project into dbt_project/target/manifest.json (offline)
	cd dbt_project && $(RUN) dbt parse --profiles-dir . --quiet

.PHONY: dev
dev: dbt-manifest ## `dagster dev` on :3000 with every registry location: on the native stack if it runs, else embedded
	$(RUN) python -m wharf_infra.native.dev

.PHONY: lint
lint: install ## ruff (lint and format check), mypy, and the layout's import rules (import-linter)
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy infra code_locations tests
	$(RUN) lint-imports

.PHONY: test
test: dbt-manifest ## Every test tier (what CI runs): the cluster tier on kind where Docker runs or installs, else on kwok
	$(PYTEST)

.PHONY: test-unit
test-unit: dbt-manifest ## Unit tier: Dagster definitions, asset logic, sensors and schedules, no services
	$(PYTEST) -m unit

.PHONY: native-up
native-up: dbt-manifest ## Start the native stack (Postgres, MinIO, Nessie, Marquez and its web UI, Trino, Dagster, Superset) on loopback
	$(RUN) python -m wharf_infra.native up

.PHONY: native-down
native-down: install ## Stop the native stack (WIPE=1 also deletes its data)
	$(RUN) python -m wharf_infra.native down $(if $(WIPE),--wipe)

.PHONY: native-status
native-status: install ## Show which native services run, and where
	$(RUN) python -m wharf_infra.native status

# The former names, kept for one release.
.PHONY: stack-up stack-down stack-status
stack-up: native-up
stack-down: native-down
stack-status: native-status

.PHONY: images
images: install ## Build every image the platform runs from package registries (content tags; unchanged ones skipped), SBOMs, sizes; loads them into kind if it runs (PUSH=<registry>: push there)
	$(RUN) python -m wharf_infra.build.images $(if $(PUSH),--push $(PUSH))

.PHONY: kind-node
kind-node: install ## Build the kind node image from package registries (for machines no container registry answers; `make cluster` does when needed)
	$(RUN) python -m wharf_infra.build.kind_node

# kind: the platform in Docker containers. kwok: no Docker; a real control plane built from Go
# modules with simulated nodes, on which the real `pulumi up` of the platform runs. Unset, TARGET is
# kind for `make cluster`, and the one `make cluster` brought up for `make destroy` and `make smoke`.
TARGET_ARG = $(if $(TARGET),--target $(TARGET))

.PHONY: cluster
cluster: install ## TARGET=kind: checks, cluster, images, platform, readiness, URLs, login. TARGET=kwok: control plane + platform (PLAN=1: print)
	$(RUN) python -W ignore -m wharf_infra.local up $(TARGET_ARG) $(if $(PLAN),--plan)

.PHONY: destroy
destroy: install ## Remove what `make cluster` made for TARGET (stacks, cluster, images, state) (PLAN=1: print)
	$(RUN) python -W ignore -m wharf_infra.local down $(TARGET_ARG) $(if $(PLAN),--plan)

.PHONY: toolchain
toolchain: install ## Build the pinned Go tools (Kubernetes, etcd, kwok, kind and its node's runtime, Pulumi, its Kubernetes provider, helm, Traefik, oauth2-proxy, the operators) into the cache
	$(RUN) python -m wharf_infra.build.toolchain

STACK ?= local

.PHONY: render
render: install ## Render STACK=local|staging|prod offline (Pulumi mocks) into build/render/<stack>/
	$(RUN) python -W ignore -m wharf_infra.verify.render --stack $(STACK)

.PHONY: test-infra
test-infra: install ## Infra tier: programs under mocks, rendered objects against schemas and policy
	$(PYTEST) -m infra

.PHONY: test-images
test-images: install ## Images tier: every built image started as its chart runs it and probed (Docker installed and started if missing)
	$(PYTEST) -m images

.PHONY: test-cluster
test-cluster: install ## Cluster tier: `make cluster TARGET=kwok`, checks on what the API server stored, destroy
	$(PYTEST) -m cluster

.PHONY: test-kind
test-kind: dbt-manifest ## Kind tier: make cluster, make smoke (nothing skipped), converge, NetworkPolicy and PodSecurity on running pods, make destroy (Docker installed and started if missing)
	$(PYTEST) -m kind

.PHONY: test-integration
test-integration: dbt-manifest ## Integration tier: the data path on the native stack (started if not running)
	$(PYTEST) -m integration

.PHONY: test-faults
test-faults: dbt-manifest ## Fault tier: each native service stopped mid-burst and mid-dbt-build, one at a time, with recovery times
	$(PYTEST) -m faults

.PHONY: smoke
smoke: dbt-manifest ## Smoke suite: WHARF_SMOKE_TARGET, else the cluster `make cluster` brought up, else the native stack
	WHARF_SMOKE_TARGET="$(or $(WHARF_SMOKE_TARGET),$(shell $(RUN) python -m wharf_infra.local smoke-target $(TARGET_ARG)))" $(PYTEST) -m smoke

.PHONY: bench
bench: dbt-manifest ## Benchmarks that print figures: load times; landing tick vs history; backfills and re-runs; landing latency (singles, a site's burst, 1M and 10M readings) on the native stack
	$(RUN) python tests/bench/load_time.py
	$(RUN) python -W ignore tests/bench/landing_tick.py
	$(RUN) python -W ignore tests/bench/backfill.py
	$(RUN) python -W ignore tests/bench/landing_burst.py

.PHONY: clean
clean: ## Remove build output and local state (not the uv or download caches)
	rm -rf build .wharf .dagster_home dbt_project/target .pytest_cache .mypy_cache .ruff_cache
