"""The local stack's kind cluster as a Pulumi resource (a dynamic provider, run by Pulumi's Python
plugin from the program's own environment: no provider to download).

Create makes the cluster unless one of that name runs (so a re-run converges and a cluster made by
hand is adopted), waits for its node, and reads its kubeconfig; a new node image or kind config
replaces it; delete removes it.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider

READY_WAIT = "300s"  # generous: the first start of a node on a busy 2-core machine
REPLACING = ("name", "image", "config_text")  # what a running kind cluster cannot change


class KindError(RuntimeError):
    """kind failed; the message carries its output."""


def _kind(*args: str) -> str:
    result = subprocess.run(["kind", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise KindError(f"`kind {' '.join(args)}` failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return result.stdout


def create_command(name: str, image: str, config: str) -> list[str]:
    return ["create", "cluster", "--name", name, "--image", image, "--config", config, "--wait", READY_WAIT]


class _KindProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        name = props["name"]
        if name not in _kind("get", "clusters").split():
            _kind(*create_command(name, props["image"], props["config"]))
        return CreateResult(
            id_=name, outs={**props, "kubeconfig": _kind("get", "kubeconfig", "--name", name)}
        )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        replaces = [key for key in REPLACING if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(replaces), replaces=replaces, delete_before_replace=True)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if id_ not in _kind("get", "clusters").split():
            return ReadResult(None, {})  # gone: the next `up` creates it again
        return ReadResult(id_, {**props, "kubeconfig": _kind("get", "kubeconfig", "--name", id_)})

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        _kind("delete", "cluster", "--name", id_)


class KindCluster(Resource):
    """A kind cluster: `name`, from node `image`, shaped by the kind `config` file."""

    kubeconfig: pulumi.Output[str]

    def __init__(self, resource_name: str, *, name: str, image: str, config: str, config_text: str) -> None:
        props = {
            "name": name,
            "image": image,
            "config": config,
            "config_text": config_text,
            "kubeconfig": None,
        }
        super().__init__(
            _KindProvider(),
            resource_name,
            props,
            pulumi.ResourceOptions(additional_secret_outputs=["kubeconfig"]),
        )
