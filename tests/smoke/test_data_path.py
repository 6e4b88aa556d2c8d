"""The bioreactor path end to end on the target, by its own daemon: a batch file put into the
target's landing bucket is ingested by its sensor, its automation builds the marts from it with dbt
on its Trino, Marquez traces the mart back to the raw table, and Superset's batches chart shows it.

On a cluster the landing bucket is reached through `kubectl port-forward` to MinIO (the gateway
serves MinIO's console, not its API), with the root login from its Secret; Superset's API likewise
with its admin login (the gateway's login takes the Authorization header Superset's API login
would use), after checking the gateway serves Superset behind its login.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
import requests
from cluster_access import port_forward, secret_values
from target import Target

from bioreactor.generate import batch_table, to_parquet
from wharf_infra.contract.facts import LANDING_BUCKET, MINIO_REGION, MINIO_ROOT_SECRET
from wharf_shared.trino import TrinoResource

RAW = "lake.raw.bioreactor_readings"
MART = "marts.analytics.mart_bioreactor_overview"
MINUTES = 30
START = datetime(2025, 7, 1, tzinfo=UTC)
LANDING_WAIT_S = 600
MODELS_WAIT_S = 1200  # dbt's run pod on a cold node pulls nothing but starts a Python and dbt
T = TypeVar("T")


def _eventually(what: str, probe: Callable[[], T | None], timeout_s: float) -> T:
    deadline = time.monotonic() + timeout_s
    while not (found := probe()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s:.0f} s"
        time.sleep(5)
    return found


@pytest.fixture(scope="module")
def landing(data_plane: Target) -> Iterator[Any]:
    """A boto3 client of the target's object store, able to write its landing bucket."""
    if data_plane.native_data_plane:
        from wharf_infra.native.services import s3_client

        yield s3_client()
        return
    if data_plane.kubeconfig is None:
        pytest.skip("this target names no kubeconfig: its object store is out of reach")
    import boto3

    from wharf_infra.deploy.components.minio import API_PORT, NAME

    user, password = secret_values(data_plane, MINIO_ROOT_SECRET, "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD")
    with port_forward(data_plane, NAME, API_PORT) as port:
        yield boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name=MINIO_REGION,
            aws_access_key_id=user,
            aws_secret_access_key=password,
        )


@pytest.fixture(scope="module")
def landed_batch(landing: Any) -> str:
    batch = f"SMOKE-{uuid.uuid4().hex[:8]}"
    table = batch_table(batch, START, MINUTES, 11)
    landing.put_object(Bucket=LANDING_BUCKET, Key=f"bioreactor/{batch}.parquet", Body=to_parquet(table))
    return batch


def _batch_rows(trino: TrinoResource, sql: str, batch: str) -> list[tuple[Any, ...]]:
    """`sql`'s rows for `batch` (its one parameter); none while its table does not exist yet, as
    on a fresh platform before the first ingest or dbt build."""
    from trino.exceptions import TrinoUserError

    try:
        return trino.query(sql, (batch,))
    except TrinoUserError as error:
        if error.error_name in ("TABLE_NOT_FOUND", "SCHEMA_NOT_FOUND"):
            return []
        raise


def _count(trino: TrinoResource, table: str, batch: str) -> int:
    ((rows,),) = _batch_rows(trino, f"select count(*) from {table} where batch_id = ?", batch) or [(0,)]
    return int(rows)


@pytest.fixture(scope="module")
def ingested_rows(landed_batch: str, trino: TrinoResource) -> int:
    return _eventually(f"{landed_batch} in {RAW}", lambda: _count(trino, RAW, landed_batch), LANDING_WAIT_S)


@pytest.fixture(scope="module")
def modelled_readings(landed_batch: str, ingested_rows: int, trino: TrinoResource) -> int:
    ((readings,),) = _eventually(
        f"{landed_batch} in {MART} (dbt, launched by the daemon's automation)",
        lambda: _batch_rows(trino, f"select readings from {MART} where batch_id = ?", landed_batch),
        MODELS_WAIT_S,
    )
    return int(readings)


def test_a_landed_batch_is_ingested_by_the_targets_sensor(ingested_rows: int) -> None:
    assert ingested_rows == MINUTES


def test_the_targets_automation_builds_the_marts_from_it(modelled_readings: int) -> None:
    assert modelled_readings == MINUTES


def test_marquez_traces_the_mart_back_to_the_raw_table(modelled_readings: int, target: Target) -> None:
    if not target.marquez_url:
        pytest.skip("this target names no Marquez")

    def get(path: str) -> Any:
        response = requests.get(
            f"{target.marquez_url}/api/v1{path}", timeout=30, auth=target.auth, verify=target.verify_tls
        )
        response.raise_for_status()
        return response.json()

    def raw_upstream() -> list[str]:
        found = [r for r in get(f"/search?q={quote(MART)}&filter=DATASET")["results"] if r["name"] == MART]
        nodes = [
            node["id"]
            for node_id in (f"dataset:{result['namespace']}:{MART}" for result in found)
            for node in get(f"/lineage?nodeId={quote(node_id)}&depth=20")["graph"]
        ]
        return [node for node in nodes if node.endswith(f":{RAW}")]

    assert _eventually(f"{RAW} upstream of {MART} in Marquez", raw_upstream, 300)


@contextmanager
def _superset(target: Target) -> Iterator[str]:
    """A logged-in Superset client's URL: natively on loopback; on a cluster, behind the gateway's
    login (checked), its API through a port-forward."""
    if target.superset:
        url = target.superset[0]
        health = requests.get(f"{url}/health", timeout=30, verify=target.verify_tls)
        assert health.status_code == 200 and health.text == "OK", health.text
        yield url
        return
    if not target.superset_url or target.kubeconfig is None:
        pytest.skip("this target names no Superset")
    from wharf_infra.deploy.components.superset import NAME, PORT

    gateway_health = f"{target.superset_url}/health"
    anonymous = requests.get(gateway_health, timeout=30, verify=target.verify_tls)
    assert anonymous.status_code in (401, 302, 403), anonymous.status_code
    logged_in = requests.get(gateway_health, timeout=30, auth=target.auth, verify=target.verify_tls)
    assert logged_in.status_code == 200 and logged_in.text == "OK", logged_in.text
    with port_forward(target, NAME, PORT) as port:
        yield f"http://127.0.0.1:{port}"


def _superset_login(target: Target) -> tuple[str, str]:
    if target.superset:
        return target.superset[1], target.superset[2]
    from wharf_infra.deploy.components.superset import SECRET

    user, password = secret_values(target, SECRET, "username", "password")
    return user, password


def test_supersets_batches_chart_shows_it(modelled_readings: int, landed_batch: str, target: Target) -> None:
    from wharf_infra.contract.superset_api import SupersetClient

    with _superset(target) as url:
        client = SupersetClient(url, *_superset_login(target))
        charts = client.get("/api/v1/chart/", q="(columns:!(id,slice_name),page_size:100)")["result"]
        chart = next(c for c in charts if c["slice_name"] == "Batches")
        (result,) = client.get(f"/api/v1/chart/{chart['id']}/data/", format="json", type="full")["result"]
    shown = [row for row in result["data"] if row["batch_id"] == landed_batch]
    assert [row["readings"] for row in shown] == [modelled_readings], result["data"][:5]
