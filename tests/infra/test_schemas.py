"""Every rendered object validates against the real schemas; every release's values against its chart."""

from typing import Any

import kubernetes_validate
import pytest
from conftest import Rendered
from upstream import upstream_defaults, validate_custom_resource, values_validator

from wharf_infra.core.versions import versions
from wharf_infra.deploy.helm_values import deep_merge

BUILT_IN_GROUPS = ("v1", "apps/v1", "batch/v1", "networking.k8s.io/v1", "rbac.authorization.k8s.io/v1")
SCHEMALESS_CHARTS = ("nessie", "trino")
# Where upstream defaults are free-form maps or lists, any key of ours is legitimate; so it is under
# keys whose contents the charts hand to Kubernetes as they are, or that name things by design.
FREE_FORM = (dict, list, type(None))
PASS_THROUGH = {
    "resources",
    "securityContext",
    "containerSecurityContext",
    "podSecurityContext",
    "catalogs",
    "annotations",
    "labels",
    "env",
    "nodeSelector",
    "tolerations",
    "affinity",
}


def test_built_in_objects_validate_strictly_against_kubernetes(stack: Rendered) -> None:
    checked = 0
    for obj in stack.objects():
        if obj["apiVersion"] in BUILT_IN_GROUPS:
            kubernetes_validate.validate(obj, versions().kubernetes_schemas, strict=True)
            checked += 1
    assert checked >= 10


def test_custom_resources_validate_against_their_crds(stack: Rendered) -> None:
    custom = [o for o in stack.objects() if o["apiVersion"] not in BUILT_IN_GROUPS]
    assert custom
    errors = {f"{o['kind']}/{o['metadata']['name']}": validate_custom_resource(o) for o in custom}
    assert {k: v for k, v in errors.items() if v} == {}


def test_a_typo_in_a_custom_resource_is_caught(stack: Rendered) -> None:
    route = dict(stack.of_kind("HTTPRoute")[0])
    route["spec"] = {**route["spec"], "hostname": ["typo.example"]}
    assert any("hostname" in e for e in validate_custom_resource(route))


@pytest.mark.parametrize("chart", ["dagster", "cert-manager", "cloudnative-pg", "traefik"])
def test_release_values_validate_against_the_chart_schema(stack: Rendered, chart: str) -> None:
    validator = values_validator(chart)
    assert validator is not None, f"{chart} ships a values.schema.json"
    release = next(r for r in stack.releases().values() if r["chart"].rsplit("/", 1)[-1] == chart)
    # Helm validates the chart's defaults with the release's values merged over them.
    merged = deep_merge(upstream_defaults(chart), release["values"])
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(merged)]
    assert errors == []


def test_the_dagster_schema_checks_kubernetes_types_offline(rendered: dict[str, Rendered]) -> None:
    validator = values_validator("dagster")
    assert validator is not None
    values = deep_merge(upstream_defaults("dagster"), rendered["local"].releases()["dagster"]["values"])
    broken = {
        **values,
        "dagsterWebserver": {**values["dagsterWebserver"], "resources": {"requests": {"cpu": []}}},
    }
    assert any("requests" in list(map(str, e.absolute_path)) for e in validator.iter_errors(broken))


def _unknown_keys(ours: Any, defaults: Any, path: str = "") -> list[str]:
    if not isinstance(ours, dict) or not isinstance(defaults, dict) or not defaults:
        return []
    unknown = []
    for key, value in ours.items():
        if key not in defaults:
            unknown.append(f"{path}{key}")
        elif key not in PASS_THROUGH and (not isinstance(defaults[key], FREE_FORM) or defaults[key]):
            unknown += _unknown_keys(value, defaults[key], f"{path}{key}.")
    return unknown


def test_an_unknown_key_is_caught() -> None:
    assert _unknown_keys({"server": {"wrokers": 1}}, upstream_defaults("trino")) == ["server.wrokers"]


@pytest.mark.parametrize("chart", SCHEMALESS_CHARTS)
def test_values_of_charts_without_a_schema_use_only_keys_the_chart_knows(stack: Rendered, chart: str) -> None:
    release = next(r for r in stack.releases().values() if r["chart"].rsplit("/", 1)[-1] == chart)
    assert _unknown_keys(release["values"], upstream_defaults(chart)) == []
