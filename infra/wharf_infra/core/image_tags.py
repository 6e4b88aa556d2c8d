"""Code-location image names and content tags (what `build.images` builds, what `deploy` deploys).

A tag is a hash of everything that goes into the image: the location's package, the shared package,
the lock file, its extra paths (the dbt project for analytics) and the image recipe. Same content,
same tag: an unchanged location is not rebuilt and its deployment does not roll.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from wharf_infra.core.paths import CODE_LOCATIONS_DIR, REPO_ROOT
from wharf_infra.core.registry import CodeLocation

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
