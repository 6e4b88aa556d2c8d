"""Reaching a cluster target's services that the gateway does not expose as an API (MinIO's S3,
Superset's own login): `kubectl port-forward` to their Service, logins from their Secrets."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from target import Target


def _kubectl() -> str:
    from wharf_infra.build.toolchain import KUBERNETES

    built = KUBERNETES.out_dir / "kubectl"
    found = str(built) if built.exists() else shutil.which("kubectl")
    assert found, "kubectl is needed to reach the cluster's services: make toolchain, or install it"
    return found


@contextmanager
def port_forward(target: Target, service: str, port: int) -> Iterator[int]:
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


def secret_values(target: Target, name: str, *keys: str) -> tuple[str, ...]:
    """The decoded `keys` of Secret `name` in the target's namespace."""
    from kubernetes import client, config

    config.load_kube_config(str(target.kubeconfig))
    data = client.CoreV1Api().read_namespaced_secret(name, target.namespace).data
    return tuple(base64.b64decode(data[key]).decode() for key in keys)
