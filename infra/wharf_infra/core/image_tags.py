"""The images wharf builds (`build.images`) and deploys (`deploy`): their recipes, names and tags.

A tag is a hash of everything that decides an image's content: its recipe folder under `images/`,
its inputs pinned in `infra/versions.toml [built.<name>]`, the versions of the upstream images it
replaces, and its parent's tag; a code location's tag adds its package, the shared package, the lock
and its extra paths (the dbt project for analytics). Same content, same tag: an unchanged image is
not rebuilt and a deployment running it does not roll. Tags are computed from the repository alone,
so `pulumi up` knows them without building anything. Of a pyproject.toml, only what decides an
install is hashed (`hashed_content`).
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from wharf_infra.core.paths import CODE_LOCATIONS_DIR, REPO_ROOT
from wharf_infra.core.registry import CodeLocation
from wharf_infra.core.versions import versions

IMAGES_DIR = REPO_ROOT / "images"
CODE_LOCATION_RECIPE = IMAGES_DIR / "code-location"
SHARED_PACKAGE = CODE_LOCATIONS_DIR / "shared"
# Never part of an image or its tag: caches, build output, and dbt's per-clone anonymous user id
# (`.user.yml`, random in each clone: as an input it would give every clone its own tag).
IGNORED_PARTS = {"__pycache__", ".pytest_cache", "target", "logs", ".mypy_cache", ".user.yml"}
LOCATION_INPUTS = ("uv.lock", "pyproject.toml")
# What the recipes that install from the lock get in their build context.
WORKSPACE_FILES = ("pyproject.toml", "uv.lock", "README.md", "code_locations", "dbt_project")
# The images the code-location recipe starts from (its PYTHON_IMAGE and UV_IMAGE).
CODE_LOCATION_PARENTS = ("python", "uv")
# Recipes that install Python packages with uv on the python image (their PYTHON_IMAGE and UV_IMAGE,
# like the code locations), and the repository files they install from, part of their tags: the
# workspace lock for Dagster, Superset's own lock and the importer its dashboards Job runs.
PYTHON_RECIPES: dict[str, tuple[str, ...]] = {
    "dagster": LOCATION_INPUTS,
    "superset": ("infra/superset/requirements.txt", "infra/wharf_infra/contract/superset_api.py"),
}


RECIPE_KEYS = frozenset(
    {"parent", "replaces", "tag-from", "recipe", "tools", "part-of"}
)  # the rest are inputs


@dataclass(frozen=True)
class Recipe:
    """One image wharf builds from `images/<name>/`."""

    name: str
    parent: str | None
    inputs: dict[str, str]  # build arguments, pinned in versions.toml
    replaces: tuple[str, ...]  # the [images] references it stands in for
    tag_from: str | None = None  # the input whose value leads the tag (CloudNativePG reads the major)
    recipe: str | None = None  # a recipe folder shared with other images; else images/<name>
    tools: tuple[str, ...] = ()  # the [toolchain] builds it carries: their versions are in its tag
    part_of: str | None = None  # an image made of several (the kind node), not one the platform runs

    @property
    def folder(self) -> Path:
        return IMAGES_DIR / (self.recipe or self.name)


@cache
def recipes() -> dict[str, Recipe]:
    """Every built image by name, parents before children (versions.toml's order)."""
    found: dict[str, Recipe] = {}
    for name, spec in versions().built.items():
        inputs = {k: str(v) for k, v in spec.items() if k not in RECIPE_KEYS}
        recipe = Recipe(
            name,
            spec.get("parent"),
            inputs,
            tuple(spec.get("replaces", ())),
            spec.get("tag-from"),
            spec.get("recipe"),
            tuple(spec.get("tools", ())),
            spec.get("part-of"),
        )
        if recipe.parent is not None and recipe.parent not in found:
            raise ValueError(
                f"infra/versions.toml: [built.{name}] names parent {recipe.parent!r}, not above it"
            )
        found[name] = recipe
    return found


def _files(path: Path) -> Iterator[Path]:
    if path.is_file():
        yield path
    elif path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file() and not IGNORED_PARTS & set(child.relative_to(REPO_ROOT).parts):
                yield child


# What of a pyproject.toml decides an install from it; its other tool tables (linters' rules, the
# test tiers' markers) do not, and a change to them rebuilds nothing.
INSTALL_TABLES = ("project", "dependency-groups", "build-system")
INSTALL_TOOLS = ("uv", "hatch")


def hashed_content(file: Path) -> bytes:
    """The part of `file` an image's tag covers: all of it, but only a pyproject.toml's install tables."""
    if file.name != "pyproject.toml":
        return file.read_bytes()
    data = tomllib.loads(file.read_text())
    kept = {table: data[table] for table in INSTALL_TABLES if table in data}
    tools = data.get("tool", {})
    kept["tool"] = {tool: tools[tool] for tool in INSTALL_TOOLS if tool in tools}
    return json.dumps(kept, sort_keys=True).encode()


def _digest(files: Iterable[Path], facts: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.relative_to(REPO_ROOT).as_posix().encode() + b"\0")
        digest.update(hashed_content(file) + b"\0")
    for fact in facts:
        digest.update(fact.encode() + b"\0")
    return f"c-{digest.hexdigest()[:16]}"


@cache
def recipe_tag(name: str) -> str:
    recipe = recipes()[name]
    facts = [f"{key}={value}" for key, value in sorted(recipe.inputs.items())]
    facts += [f"{image}={versions().image_version(image)}" for image in recipe.replaces]
    facts += [f"{tool}={versions().toolchain_version(tool)}" for tool in recipe.tools]
    facts += [f"parent={recipe_tag(recipe.parent)}"] if recipe.parent else []
    files = list(_files(recipe.folder))
    files += [REPO_ROOT / path for path in PYTHON_RECIPES.get(name, ())]
    tag = _digest(files, facts)
    return f"{recipe.inputs[recipe.tag_from]}-{tag}" if recipe.tag_from else tag


KIND_NODE = "kind-node"  # the `part-of` of the images wharf's kind node holds
KIND_BASE = "kind-base"  # the recipe of its base image (kind's base image on wharf's Debian)
KIND_NODE_BUILD = REPO_ROOT / "infra" / "wharf_infra" / "build" / "kind_node.py"


def kind_node_tag() -> str:
    """The node image's tag: its Kubernetes version, then a hash of its parts' tags, kind's version
    and the build that assembles them."""
    parts = sorted(name for name, recipe in recipes().items() if recipe.part_of == KIND_NODE)
    facts = [f"{name}={recipe_tag(name)}" for name in parts]
    facts += [f"kind={versions().toolchain_version('kind')}"]
    return f"v{versions().kubernetes}-{_digest([KIND_NODE_BUILD], facts)}"


def kind_node_reference(registry: str) -> str:
    return f"{built_image_name(registry, KIND_NODE)}:{kind_node_tag()}"


def image_inputs(location: CodeLocation) -> list[Path]:
    roots = [
        location.source_dir,
        SHARED_PACKAGE,
        CODE_LOCATION_RECIPE,
        *(REPO_ROOT / p for p in (*LOCATION_INPUTS, *location.extra_paths)),
    ]
    return sorted({file for root in roots for file in _files(root)})


def content_tag(location: CodeLocation) -> str:
    return _digest(image_inputs(location), [f"{p}={recipe_tag(p)}" for p in CODE_LOCATION_PARENTS])


def image_name(registry: str, location: CodeLocation) -> str:
    return built_image_name(registry, location.name)


def built_image_name(registry: str, name: str) -> str:
    return f"{registry.rstrip('/')}/wharf-{name}"


ImageSource = Literal["upstream", "built"]


def replacing(name: str) -> Recipe | None:
    """The recipe that builds a stand-in for upstream image `name`, if any."""
    return next((recipe for recipe in recipes().values() if name in recipe.replaces), None)


@dataclass(frozen=True)
class Images:
    """Where a stack's images come from (`images` in its config): the upstream references pinned in
    versions.toml, or wharf's builds of them under the stack's registry. Versions, configuration,
    users and ports are the same either way; an image no recipe builds yet stays upstream."""

    source: ImageSource = "upstream"
    registry: str = "wharf.local"

    def parts(self, name: str) -> tuple[str, str]:
        """(repository, tag) of image `name` (a versions.toml [images] key)."""
        recipe = replacing(name)
        if self.source == "built" and recipe is not None:
            return built_image_name(self.registry, recipe.name), recipe_tag(recipe.name)
        return versions().image_parts(name)

    def reference(self, name: str) -> str:
        repository, tag = self.parts(name)
        return f"{repository}:{tag}"

    def values(self, name: str) -> dict[str, str]:
        """`{repository, tag}`, the way most charts take an image."""
        repository, tag = self.parts(name)
        return {"repository": repository, "tag": tag}
