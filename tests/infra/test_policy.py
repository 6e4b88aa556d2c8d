"""Policy over the rendered output: resources, non-root, pinned images, no secrets, default deny, labels."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import Rendered

from wharf_infra.core.image_tags import recipe_tag
from wharf_infra.core.paths import HELM_DIR, INFRA_DIR
from wharf_infra.core.versions import locked_version
from wharf_infra.verify.policy import (
    containers,
    image_violations,
    is_pinned,
    pinned_images,
    privilege_violations,
    resource_violations,
)
from wharf_infra.verify.render import REDACTED, SECRET_PREFIX


def test_every_container_has_requests_and_limits(stack: Rendered) -> None:
    assert stack.workloads()
    assert [v for obj in stack.workloads() for v in resource_violations(obj)] == []


def test_every_container_runs_as_non_root_without_privilege(stack: Rendered) -> None:
    assert sum(len(containers(obj)) for obj in stack.workloads()) >= 2
    assert [v for obj in stack.workloads() for v in privilege_violations(obj)] == []


def test_every_image_is_pinned_and_comes_from_versions_toml(stack: Rendered) -> None:
    pinned = pinned_images()
    assert any(containers(obj) for obj in stack.workloads())
    assert [v for obj in stack.workloads() for v in image_violations(obj, pinned)] == []
    cluster = [o for o in stack.of_kind("Cluster")]
    assert all(is_pinned(c["spec"]["imageName"], pinned) for c in cluster)


def test_chart_images_are_pinned_and_none_is_bitnami(stack: Rendered) -> None:
    for release in stack.releases().values():
        text = yaml.safe_dump(release["values"])
        assert "bitnami" not in text, release["name"]
        assert ":latest" not in text and "tag: latest" not in text, release["name"]
    dagster = stack.releases()["dagster"]["values"]
    config = yaml.safe_load((INFRA_DIR / "platform" / f"Pulumi.{stack.stack}.yaml").read_text())
    built = config["config"]["wharf-platform:platform"].get("images") == "built"
    # Upstream, Dagster's own image at the lock's version; built, wharf's image built from the lock.
    expected = recipe_tag("dagster") if built else locked_version("dagster")
    for component in ("dagsterWebserver", "dagsterDaemon"):
        assert dagster[component]["image"]["tag"] == expected
    for deployment in dagster["dagster-user-deployments"]["deployments"]:
        assert re.fullmatch(r"c-[0-9a-f]{16}", deployment["image"]["tag"])


# Where each chart's workloads take their resources from: every one is set by wharf.
CHART_RESOURCES: dict[str, list[tuple[str, ...]]] = {
    "cnpg": [("resources",)],
    "cert-manager": [
        ("resources",),
        ("webhook", "resources"),
        ("cainjector", "resources"),
        ("startupapicheck", "resources"),
    ],
    "traefik": [("resources",)],
    "nessie": [("resources",)],
    "trino": [("coordinator", "resources")],
    "dagster": [("dagsterWebserver", "resources"), ("dagsterDaemon", "resources")],
}


def test_every_chart_workload_has_resources(stack: Rendered) -> None:
    releases = stack.releases()
    assert set(releases) == set(CHART_RESOURCES)
    for name, paths in CHART_RESOURCES.items():
        for path in paths:
            block: Any = releases[name]["values"]
            for key in path:
                block = block[key]
            assert {"cpu", "memory"} <= block["requests"].keys(), (name, path)
            assert "memory" in block["limits"], (name, path)
    trino = releases["trino"]["values"]
    if trino["server"]["workers"]:
        assert {"cpu", "memory"} <= trino["worker"]["resources"]["requests"].keys()
    for deployment in releases["dagster"]["values"]["dagster-user-deployments"]["deployments"]:
        assert deployment["resources"]["requests"] and deployment["resources"]["limits"]


def test_no_secret_value_is_in_any_rendered_stack_or_values_file(stack: Rendered) -> None:
    secrets = stack.of_kind("Secret")
    assert secrets
    for secret in secrets:
        assert set((secret.get("stringData") or {}).values()) <= {REDACTED}, secret["metadata"]["name"]
    files = [*stack.files(), *HELM_DIR.rglob("*.yaml"), *INFRA_DIR.glob("*/Pulumi.*.yaml")]
    for path in files:
        text = path.read_text()
        assert SECRET_PREFIX not in text, f"a generated secret leaked into {path}"


def _keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [k for key, v in value.items() for k in (str(key), *_keys(v))]
    if isinstance(value, list):
        return [k for item in value for k in _keys(item)]
    return []


def test_stack_files_hold_no_secret_and_no_ciphertext() -> None:
    for path in INFRA_DIR.glob("*/Pulumi.*.yaml"):
        keys = _keys(yaml.safe_load(path.read_text()))
        assert "secure" not in keys, path
        assert not [k for k in keys if re.search(r"(?i)password|secret|token", k)], path


def test_trino_catalogs_reference_credentials_instead_of_holding_them(stack: Rendered) -> None:
    catalogs = stack.releases()["trino"]["values"]["catalogs"]
    for name, properties in catalogs.items():
        for line in (properties or "").splitlines():  # null: a chart default removed
            key, _, value = line.partition("=")
            if re.search(r"password|secret|access-key", key):
                assert value.startswith("${ENV:"), f"catalog {name}: {key} holds a value"


def test_every_namespace_denies_by_default(stack: Rendered) -> None:
    namespaces = {n["metadata"]["name"] for n in stack.of_kind("Namespace")}
    assert namespaces == {"wharf", "cnpg-system", "cert-manager", "wharf-gateway"}
    deny = {
        p["metadata"]["namespace"]
        for p in stack.of_kind("NetworkPolicy")
        if p["spec"]["podSelector"] == {}
        and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    }
    assert deny == namespaces


@pytest.mark.parametrize(
    "label",
    [
        "app.kubernetes.io/name",
        "app.kubernetes.io/instance",
        "app.kubernetes.io/component",
        "app.kubernetes.io/part-of",
        "app.kubernetes.io/managed-by",
    ],
)
def test_every_object_carries_the_recommended_labels(stack: Rendered, label: str) -> None:
    for obj in stack.objects():
        assert label in obj["metadata"].get("labels", {}), f"{obj['kind']}/{obj['metadata']['name']}"
    assert {o["metadata"]["labels"]["app.kubernetes.io/part-of"] for o in stack.objects()} == {"wharf"}


def test_local_memory_requests_fit_a_laptop(rendered: dict[str, Rendered]) -> None:
    summary = (rendered["local"].root / "summary.txt").read_text()
    gib = float(re.search(r"memory ([0-9.]+) GiB", summary).group(1))  # type: ignore[union-attr]
    assert gib <= 6.5, summary  # with Docker's 8 GB and the kind node's own agents beside it


def test_pulumi_projects_exist_for_both_programs() -> None:
    for program in ("cluster", "platform"):
        project = yaml.safe_load((INFRA_DIR / program / "Pulumi.yaml").read_text())
        assert project["runtime"]["name"] == "python"
        assert {p.name for p in (INFRA_DIR / program).glob("Pulumi.*.yaml")} == {
            "Pulumi.local.yaml",
            "Pulumi.staging.yaml",
            "Pulumi.prod.yaml",
        }
        assert Path(INFRA_DIR / program / "__main__.py").is_file()
