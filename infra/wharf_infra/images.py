"""Code-location image names and content tags.

A tag is a hash of everything that goes into the image: the location's package, the shared package,
the lock file, its extra paths (the dbt project for analytics) and the image recipe. Same content,
same tag: an unchanged location is not rebuilt and its deployment does not roll.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from wharf_infra.paths import CODE_LOCATIONS_DIR, REPO_ROOT
from wharf_infra.registry import CodeLocation, load_registry
from wharf_infra.versions import versions

SHARED_PACKAGE = CODE_LOCATIONS_DIR / "shared"
IGNORED_PARTS = {"__pycache__", ".pytest_cache", "target", "logs", ".mypy_cache"}
COMMON_INPUTS = ("uv.lock", "pyproject.toml", "images")


def _files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
    elif path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file() and not IGNORED_PARTS & set(child.relative_to(REPO_ROOT).parts):
                yield child


def image_inputs(location: CodeLocation) -> list[Path]:
    roots = [
        location.source_dir,
        SHARED_PACKAGE,
        *(REPO_ROOT / p for p in (*COMMON_INPUTS, *location.extra_paths)),
    ]
    return sorted({file for root in roots for file in _files(root)})


def content_tag(location: CodeLocation) -> str:
    digest = hashlib.sha256()
    for file in image_inputs(location):
        digest.update(file.relative_to(REPO_ROOT).as_posix().encode() + b"\0")
        digest.update(file.read_bytes() + b"\0")
    return f"c-{digest.hexdigest()[:16]}"


def image_name(registry: str, location: CodeLocation) -> str:
    return f"{registry.rstrip('/')}/wharf-{location.name}"


def _ok(*argv: str) -> bool:
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


def build(registry: str, kind_cluster: str | None) -> list[str]:
    """Build the image of every location whose content tag is not built yet; load them into kind."""
    if shutil.which("docker") is None or not _ok("docker", "info"):
        raise SystemExit(
            "make images needs a running Docker engine: `docker info` failed. Start Docker "
            "(Docker Desktop, or the docker service) and retry."
        )
    pinned = versions()
    references = []
    for location in load_registry():
        reference = f"{image_name(registry, location)}:{content_tag(location)}"
        references.append(reference)
        if _ok("docker", "image", "inspect", reference):
            print(f"{reference}: unchanged, not rebuilt")
            continue
        print(f"{reference}: building")
        subprocess.run(
            [
                "docker",
                "build",
                "-f",
                str(REPO_ROOT / "images" / "Dockerfile"),
                "-t",
                reference,
                "--build-arg",
                f"LOCATION={location.package}",
                "--build-arg",
                f"EXTRA_PATHS={' '.join(location.extra_paths)}",
                "--build-arg",
                f"PYTHON_IMAGE={pinned.image('python_base')}",
                "--build-arg",
                f"UV_IMAGE={pinned.image('uv')}",
                str(REPO_ROOT),
            ],
            check=True,
        )
    if kind_cluster and shutil.which("kind") and _ok("kind", "get", "kubeconfig", "--name", kind_cluster):
        subprocess.run(["kind", "load", "docker-image", "--name", kind_cluster, *references], check=True)
    return references


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the code-location images (content-tagged).")
    parser.add_argument("--registry", default="wharf.local", help="image name prefix (the local stack's)")
    parser.add_argument(
        "--kind-cluster", default="wharf", help="kind cluster to load the images into, if it exists"
    )
    args = parser.parse_args(argv)
    build(args.registry, args.kind_cluster)


if __name__ == "__main__":
    main()
