"""Render once, run twice: what the native stack runs equals what the charts render for the
cluster, once the cluster's addresses are mapped to loopback. A configuration bug then shows on
the native stack (the integration tier) before it reaches a cluster."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import Rendered

from wharf_infra.contract.endpoints import Endpoints, cluster_endpoints
from wharf_infra.contract.facts import BUCKETS
from wharf_infra.core.paths import REPO_ROOT
from wharf_infra.native import dagster as native_dagster
from wharf_infra.native import services, settings
from wharf_shared.environment import PlatformEnvironment

NESSIE_BINDINGS = ("quarkus.http.", "quarkus.management.")
NESSIE_CONTRACT = (
    "nessie.catalog.",
    "nessie.version.store.type",
    "nessie.version.store.persist.jdbc.",
    "quarkus.datasource.",
)


@pytest.fixture
def native_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A native stack of its own, so nothing of a running one is touched."""
    monkeypatch.setenv("WHARF_NATIVE_DIR", str(tmp_path))
    settings.settings.cache_clear()
    yield tmp_path
    settings.settings.cache_clear()


def _properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))
    return {key.strip().replace('"', ""): value.strip() for key, value in pairs}


def _config_map_with(rendered: Rendered, release: str, key: str) -> str:
    documents = yaml.safe_load_all((rendered.root / "charts" / f"{release}.yaml").read_text())
    found = [
        d["data"][key] for d in documents if d and d["kind"] == "ConfigMap" and key in (d.get("data") or {})
    ]
    assert len(found) == 1, f"{release}: {len(found)} ConfigMaps with {key}"
    return str(found[0])


def _substitutions(side: Endpoints, other: Endpoints) -> list[tuple[str, str]]:
    """The text replacements that turn `side`'s addresses into `other`'s (longest first)."""
    pairs = {
        side.nessie_url: other.nessie_url,
        side.trino_url: other.trino_url,
        side.marquez_url: other.marquez_url,
        side.trino_lineage_namespace: other.trino_lineage_namespace,
        f"{side.postgres_host}:{side.postgres_port}": f"{other.postgres_host}:{other.postgres_port}",
        side.postgres_host: other.postgres_host,
    }
    if side.s3_endpoint and other.s3_endpoint:
        pairs[side.s3_endpoint] = other.s3_endpoint
    return sorted(pairs.items(), key=lambda pair: -len(pair[0]))


def _cluster_endpoints(rendered: Rendered) -> Endpoints:
    code_env = rendered.named("ConfigMap", "wharf-code-env")["data"]
    contract = PlatformEnvironment.from_env(code_env)
    namespace = rendered.named("ConfigMap", "wharf-code-env")["metadata"]["namespace"]
    return cluster_endpoints(namespace, contract.s3_region, contract.s3_endpoint, {b: b for b in BUCKETS})


def _to_native(text: str, rendered: Rendered) -> str:
    for cluster, native in _substitutions(_cluster_endpoints(rendered), settings.settings().endpoints):
        text = text.replace(cluster, native)
    return text


def test_trino_runs_the_rendered_catalogs(rendered: dict[str, Rendered], native_dir: Path) -> None:
    local = rendered["local"]
    etc = services.Trino()._configure()
    for file in ("lake.properties", "marts.properties"):
        cluster = _properties(_to_native(_config_map_with(local, "trino", file), local))
        assert _properties((etc / "catalog" / file).read_text()) == cluster, file
    assert not (etc / "event-listener.properties").exists()


def test_nessie_runs_the_rendered_settings(rendered: dict[str, Rendered], native_dir: Path) -> None:
    local = rendered["local"]
    nessie = services.Nessie()
    nessie.configure()
    native = _properties((nessie.workdir / "config" / "application.properties").read_text())
    cluster = _properties(_to_native(_config_map_with(local, "nessie", "application.properties"), local))
    contract = {k: v for k, v in cluster.items() if k.startswith(NESSIE_CONTRACT)}
    assert {k: v for k, v in native.items() if not k.startswith(NESSIE_BINDINGS)} == contract
    assert not any(key in native for key in ("quarkus.datasource.postgresql.password", "wharf-s3.secret"))


def test_dagster_runs_the_rendered_instance(rendered: dict[str, Rendered], native_dir: Path) -> None:
    local = rendered["local"]
    cluster: dict[str, Any] = yaml.safe_load(
        _to_native(_config_map_with(local, "dagster", "dagster.yaml"), local)
    )
    assert cluster.pop("run_launcher")["class"] == "K8sRunLauncher"  # the one difference
    for storage in ("run_storage", "event_log_storage", "schedule_storage"):  # a port is no URL
        database = cluster[storage]["config"]["postgres_db"]
        assert database["port"] == _cluster_endpoints(local).postgres_port
        database["port"] = settings.settings().endpoints.postgres_port
    home = native_dagster.write_home()
    assert yaml.safe_load((home / "dagster.yaml").read_text()) == cluster


def test_marquez_runs_the_mounted_config(rendered: dict[str, Rendered], native_dir: Path) -> None:
    local = rendered["local"]
    mounted = _to_native(local.named("ConfigMap", "marquez-config")["data"]["config.yml"], local)
    cluster, native = yaml.safe_load(mounted), yaml.safe_load(services.Marquez().configure().read_text())
    ports = settings.settings().ports
    loopback = {"bindHost": "127.0.0.1"}  # where it listens is the only difference
    assert native.pop("server") == {
        "applicationConnectors": [
            {**cluster["server"]["applicationConnectors"][0], "port": ports["marquez"], **loopback}
        ],
        "adminConnectors": [
            {**cluster["server"]["adminConnectors"][0], "port": ports["marquez_admin"], **loopback}
        ],
    }
    cluster.pop("server")
    assert native == cluster
    assert native["search"] == {"enabled": False}


def test_marquez_deployment_reads_its_config_from_the_environment(rendered: dict[str, Rendered]) -> None:
    deployment = rendered["local"].named("Deployment", "marquez")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    config_path = env["MARQUEZ_CONFIG"]["value"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert mounts[str(Path(config_path).parent)] == "config" and mounts["/tmp"] == "tmp"
    config = yaml.safe_load(rendered["local"].named("ConfigMap", "marquez-config")["data"]["config.yml"])
    for variable in (config["db"]["user"], config["db"]["password"]):
        assert variable.strip("${}") in env, f"{variable} is not set in the Deployment"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


# Each platform fact, written as a literal in one file only (infra and code-location sources).
FACT_HOMES = {
    r'"WHARF_(PROFILE|DATA_DIR|ICEBERG_|S3_|LANDING_|TRINO_|OPENLINEAGE_|LINEAGE_)': (
        "code_locations/shared/src/wharf_shared/environment.py"
    ),
    r'"lakehouse"': "code_locations/shared/src/wharf_shared/environment.py",
    r'"dagster-logs"': "infra/wharf_infra/contract/facts.py",
    r'"cnpg-system"': "infra/wharf_infra/contract/facts.py",
    r'"wharf-pg"': "infra/wharf_infra/contract/endpoints.py",
    r'"dagster", "nessie", "marquez", "marts"': "infra/wharf_infra/contract/facts.py",
    # configuration keys, where they are given a value
    r'"nessie\.version\.store\.type":': "infra/wharf_infra/contract/artefacts.py",
    r'"iceberg\.rest-catalog\.uri":': "infra/wharf_infra/contract/artefacts.py",
}


@pytest.mark.parametrize("pattern", sorted(FACT_HOMES))
def test_each_platform_fact_is_written_once(pattern: str) -> None:
    sources = [*(REPO_ROOT / "infra").rglob("*.py"), *(REPO_ROOT / "code_locations").rglob("*.py")]
    homes = {str(p.relative_to(REPO_ROOT)) for p in sources if re.search(pattern, p.read_text())}
    assert homes == {FACT_HOMES[pattern]}
