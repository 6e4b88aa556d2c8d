"""Where things are in the repository, so no module guesses relative paths on its own."""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
CODE_LOCATIONS_DIR = REPO_ROOT / "code_locations"
REGISTRY_FILE = CODE_LOCATIONS_DIR / "registry.toml"
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
BUILD_DIR = REPO_ROOT / "build"
INFRA_DIR = REPO_ROOT / "infra"
VERSIONS_FILE = INFRA_DIR / "versions.toml"
HELM_DIR = REPO_ROOT / "helm"
KIND_CONFIG = REPO_ROOT / "kind-config.yaml"
CLUSTER_PROGRAM = INFRA_DIR / "cluster"
PLATFORM_PROGRAM = INFRA_DIR / "platform"
RENDER_DIR = BUILD_DIR / "render"


def cache_dir() -> Path:
    """`$WHARF_CACHE` (default `~/.cache/wharf`): downloads, and state that must outlive `make clean`."""
    return Path(os.environ.get("WHARF_CACHE", Path.home() / ".cache" / "wharf"))


def upstream_dir() -> Path | None:
    """`$WHARF_UPSTREAM_DIR` (default `../shared/upstream`): offline copies of upstream charts and
    contracts, where a machine has them; None where it does not."""
    path = Path(os.environ.get("WHARF_UPSTREAM_DIR", REPO_ROOT.parent / "shared" / "upstream"))
    return path if path.is_dir() else None
