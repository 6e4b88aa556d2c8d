"""The bioreactor path on the target, by its own daemon: a batch file put into the target's
landing bucket is ingested by its sensor into the lake, read back through the target's Trino.

On a cluster the landing bucket is reached through `kubectl port-forward` to MinIO (the gateway
serves MinIO's console, not its API), with the root login from its Secret.
"""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from target import Target

from bioreactor.generate import batch_table, to_parquet
from wharf_infra.contract.facts import LANDING_BUCKET, MINIO_REGION, MINIO_ROOT_SECRET
from wharf_shared.trino import TrinoResource

RAW = "lake.raw.bioreactor_readings"
MINUTES = 30
START = datetime(2025, 7, 1, tzinfo=UTC)
LANDING_WAIT_S = 600
T = TypeVar("T")


def _eventually(what: str, probe: Callable[[], T | None], timeout_s: float) -> T:
    deadline = time.monotonic() + timeout_s
    while not (found := probe()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s:.0f} s"
        time.sleep(5)
    return found


def _kubectl() -> str:
    from wharf_infra.build.toolchain import KUBERNETES

    built = KUBERNETES.out_dir / "kubectl"
    found = str(built) if built.exists() else shutil.which("kubectl")
    assert found, "kubectl is needed to reach the cluster's MinIO: make toolchain, or install it"
    return found


@contextmanager
def _port_forward(target: Target, service: str, port: int) -> Iterator[int]:
    """A loopback port forwarded to `service`:`port` for as long as the block runs."""
    argv = [_kubectl(), "--kubeconfig", str(target.kubeconfig), "--namespace", target.namespace]
    process = subprocess.Popen(
        [*argv, "port-forward", "--address", "127.0.0.1", f"service/{service}", f":{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # "Forwarding from 127.0.0.1:41235 -> 9000"
        if not (match := re.search(r"127\.0\.0\.1:(\d+)", line)):
            process.terminate()
            pytest.fail(f"kubectl port-forward to {service}: {line}{process.communicate(timeout=30)[1]}")
        yield int(match.group(1))
    finally:
        process.terminate()
        process.wait(timeout=30)


def _minio_root(target: Target) -> tuple[str, str]:
    from kubernetes import client, config

    config.load_kube_config(str(target.kubeconfig))
    data = client.CoreV1Api().read_namespaced_secret(MINIO_ROOT_SECRET, target.namespace).data
    user, password = (
        base64.b64decode(data[key]).decode() for key in ("MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD")
    )
    return user, password


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

    user, password = _minio_root(data_plane)
    with _port_forward(data_plane, NAME, API_PORT) as port:
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


def _count(trino: TrinoResource, table: str, batch: str) -> int:
    try:
        ((rows,),) = trino.query(f"select count(*) from {table} where batch_id = ?", (batch,))
    except Exception:  # the table may not exist yet on a fresh platform
        return 0
    return int(rows)


@pytest.fixture(scope="module")
def ingested_rows(landed_batch: str, trino: TrinoResource) -> int:
    return _eventually(f"{landed_batch} in {RAW}", lambda: _count(trino, RAW, landed_batch), LANDING_WAIT_S)


def test_a_landed_batch_is_ingested_by_the_targets_sensor(ingested_rows: int) -> None:
    assert ingested_rows == MINUTES
