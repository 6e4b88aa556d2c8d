"""A real Kubernetes control plane on loopback whose nodes kwok simulates.

etcd, kube-apiserver (RBAC and PodSecurity admission on), kube-controller-manager (garbage
collection, Job, Deployment and volume controllers, the host-path provisioner) and kube-scheduler
are the upstream binaries, built from the Go module proxy (wharf_infra.build.toolchain). kwok plays the
kubelet of two nodes: it moves pods through the stages it ships (created, initialised, Ready,
Succeeded for Job pods, deleted) without running a container. So everything above the kubelet is
real: admission, validation, CRD schemas and CEL rules, RBAC, controllers, scheduling, Helm and
Pulumi; images are never pulled and no process in a pod ever runs.

Admission webhooks are switched off: their servers would be pods, and kwok's pods run nothing to
answer (the CloudNativePG and cert-manager webhooks are checked only on a real cluster).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from wharf_infra.build.toolchain import ETCD, KUBERNETES, KWOK, kwok_stages
from wharf_infra.core.paths import cache_dir
from wharf_infra.core.supervisor import ProcessError, ProcessSpec, Supervisor, http_ok
from wharf_infra.local.kwok.certificates import Pki

HOST = "127.0.0.1"
# Below the kernel's ephemeral range (32768+), so no outgoing connection can hold one of them.
ETCD_PORT = 12379
ETCD_PEER_PORT = 12380
API_PORT = 16443
CONTROLLER_MANAGER_PORT = 16257
SCHEDULER_PORT = 16259
KWOK_PORT = 16260
SERVICE_RANGE = "10.96.0.0/16"
POD_RANGE = "10.244.0.0/16"
NODES = ("kwok-node-0", "kwok-node-1")
NODE_CAPACITY = {"cpu": "32", "memory": "128Gi", "pods": "110", "ephemeral-storage": "500Gi"}
STORAGE_CLASS = "standard"  # the name kind's default StorageClass has
POD_STAGES = (
    "pod-create",
    "pod-init-container-running",
    "pod-init-container-completed",
    "pod-ready",
    "pod-complete",
    "pod-delete",
)
START_TIMEOUT_S = 300  # generous: a loaded 2-core machine starts the API server in tens of seconds
PROCESSES = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
)  # processes(), in order


def state_dir() -> Path:
    return Path(os.environ.get("WHARF_KWOK_DIR", cache_dir() / "kwok"))


def _kubeconfig(pki: Pki, user: str) -> dict[str, Any]:
    def data(path: Path) -> str:
        return base64.b64encode(path.read_bytes()).decode()

    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "wharf-kwok",
                "cluster": {
                    "server": f"https://{HOST}:{API_PORT}",
                    "certificate-authority-data": data(pki.ca),
                },
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate-data": data(pki.cert(user)),
                    "client-key-data": data(pki.key(user)),
                },
            }
        ],
        "contexts": [{"name": "wharf-kwok", "context": {"cluster": "wharf-kwok", "user": user}}],
        "current-context": "wharf-kwok",
    }


def _node(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "type": "kwok",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node-role.kubernetes.io/worker": "",
            },
        },
        "status": {"capacity": NODE_CAPACITY, "allocatable": NODE_CAPACITY},
    }


def _storage_class() -> dict[str, Any]:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": STORAGE_CLASS,
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "kubernetes.io/host-path",  # the controller manager's host-path provisioner
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
    }


@dataclass(frozen=True)
class ControlPlane:
    root: Path

    @classmethod
    def default(cls) -> ControlPlane:
        return cls(state_dir())

    @property
    def pki(self) -> Pki:
        return Pki(self.root / "pki")

    @property
    def supervisor(self) -> Supervisor:
        return Supervisor(self.root)

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig: what `make cluster TARGET=kwok` hands over, and Pulumi uses."""
        return self.root / "kubeconfig"

    def _component_kubeconfig(self, user: str) -> Path:
        return self.root / f"{user}.kubeconfig"

    def running(self) -> dict[str, int | None]:
        return {name: self.supervisor.running_pid(name) for name in PROCESSES}

    # -- talking to the API server as admin (stdlib only: it runs before anything else exists)

    def _ssl(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.pki.ca))
        context.load_cert_chain(str(self.pki.cert("admin")), str(self.pki.key("admin")))
        return context

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        """One API call as the admin; (status, decoded JSON body)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"https://{HOST}:{API_PORT}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, context=self._ssl(), timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw.strip().startswith(b"{") else raw.decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def _ready(self) -> bool:
        try:
            return self.request("GET", "/readyz")[0] == 200
        except (urllib.error.URLError, OSError):
            return False

    def _ensure(self, collection: str, obj: dict[str, Any]) -> None:
        status, body = self.request("POST", collection, obj)
        if status not in (201, 409):  # 409: it exists from an earlier `up`
            raise ProcessError(f"creating {obj['kind']} {obj['metadata']['name']} failed ({status}): {body}")

    def _nodes_ready(self) -> bool:
        status, body = self.request("GET", "/api/v1/nodes")
        if status != 200:
            return False
        ready = [
            n
            for n in body["items"]
            if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions", []))
        ]
        return len(ready) == len(NODES)

    # -- lifecycle

    def _component_login(self, user: str) -> list[str]:
        kubeconfig = self._component_kubeconfig(user)
        return [f"--{kind}kubeconfig={kubeconfig}" for kind in ("", "authentication-", "authorization-")]

    def _stages(self) -> Path:
        """kwok's shipped stages for nodes and pods, in one file."""
        stages = self.root / "stages.yaml"
        stage_files = [
            kwok_stages("node") / "fast" / "node-initialize.yaml",
            kwok_stages("node") / "heartbeat-with-lease" / "node-heartbeat-with-lease.yaml",
            *(kwok_stages("pod") / "general" / f"{stage}.yaml" for stage in POD_STAGES),
        ]
        stages.write_text("\n---\n".join(path.read_text() for path in stage_files))
        return stages

    def processes(self) -> list[ProcessSpec]:
        """The control plane, in start order (building the binaries once)."""
        k8s_bin, etcd_bin, kwok_bin, pki = KUBERNETES.build(), ETCD.build(), KWOK.build(), self.pki
        etcd = ProcessSpec(
            "etcd",
            [
                etcd_bin / "etcd",
                "--name=wharf",
                f"--data-dir={self.root / 'etcd'}",
                f"--listen-client-urls=http://{HOST}:{ETCD_PORT}",
                f"--advertise-client-urls=http://{HOST}:{ETCD_PORT}",
                f"--listen-peer-urls=http://{HOST}:{ETCD_PEER_PORT}",
                f"--initial-advertise-peer-urls=http://{HOST}:{ETCD_PEER_PORT}",
                f"--initial-cluster=wharf=http://{HOST}:{ETCD_PEER_PORT}",
                "--unsafe-no-fsync",  # a disposable test store: durability is not its job
                "--log-level=warn",
            ],
            ready=lambda: http_ok(f"http://{HOST}:{ETCD_PORT}/health"),
            timeout=START_TIMEOUT_S,
        )
        apiserver = ProcessSpec(
            "kube-apiserver",
            [
                k8s_bin / "kube-apiserver",
                f"--etcd-servers=http://{HOST}:{ETCD_PORT}",
                f"--bind-address={HOST}",
                f"--advertise-address={HOST}",
                f"--secure-port={API_PORT}",
                f"--tls-cert-file={pki.cert('apiserver')}",
                f"--tls-private-key-file={pki.key('apiserver')}",
                f"--client-ca-file={pki.ca}",
                f"--service-account-key-file={pki.service_account_public}",
                f"--service-account-signing-key-file={pki.service_account_key}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-cluster-ip-range={SERVICE_RANGE}",
                "--authorization-mode=Node,RBAC",
                "--disable-admission-plugins=MutatingAdmissionWebhook,ValidatingAdmissionWebhook",
                "--endpoint-reconciler-type=none",  # a loopback address may not be an Endpoint
                "--profiling=false",
                "--v=1",
            ],
            ready=self._ready,
            timeout=START_TIMEOUT_S,
        )
        controller_manager = ProcessSpec(
            "kube-controller-manager",
            [
                k8s_bin / "kube-controller-manager",
                *self._component_login("controller-manager"),
                f"--bind-address={HOST}",
                f"--secure-port={CONTROLLER_MANAGER_PORT}",
                f"--service-account-private-key-file={pki.service_account_key}",
                f"--root-ca-file={pki.ca}",
                f"--cluster-signing-cert-file={pki.ca}",
                f"--cluster-signing-key-file={pki.key('ca')}",
                "--use-service-account-credentials=true",
                f"--cluster-cidr={POD_RANGE}",
                f"--service-cluster-ip-range={SERVICE_RANGE}",
                "--enable-hostpath-provisioner=true",
                "--leader-elect=false",
                "--v=1",
            ],
        )
        scheduler = ProcessSpec(
            "kube-scheduler",
            [
                k8s_bin / "kube-scheduler",
                *self._component_login("scheduler"),
                f"--bind-address={HOST}",
                f"--secure-port={SCHEDULER_PORT}",
                "--leader-elect=false",
                "--v=1",
            ],
        )
        kwok = ProcessSpec(
            "kwok",
            [
                kwok_bin / "kwok",
                f"--kubeconfig={self._component_kubeconfig('kwok')}",
                f"--config={self._stages()}",
                "--manage-all-nodes=false",
                "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                f"--server-address={HOST}:{KWOK_PORT}",
                "--cidr=10.244.0.1/16",
                "--node-ip=10.0.0.1",
                "--node-lease-duration-seconds=40",
            ],
        )
        return [etcd, apiserver, controller_manager, scheduler, kwok]

    def up(self) -> None:
        """Start what is not running; then the simulated nodes and the storage class. Idempotent."""
        self.pki.ensure()
        for user in ("admin", "controller-manager", "scheduler", "kwok"):
            path = self.kubeconfig if user == "admin" else self._component_kubeconfig(user)
            path.touch(mode=0o600, exist_ok=True)
            path.write_text(yaml.safe_dump(_kubeconfig(self.pki, user)))
        supervisor = self.supervisor
        for spec in self.processes():
            supervisor.ensure(spec)
        for name in NODES:
            self._ensure("/api/v1/nodes", _node(name))
        self._ensure("/apis/storage.k8s.io/v1/storageclasses", _storage_class())
        supervisor.wait_until("kwok", self._nodes_ready, START_TIMEOUT_S)
        for name in ("kube-controller-manager", "kube-scheduler"):
            if supervisor.running_pid(name) is None:
                raise ProcessError(
                    f"{name} exited; {supervisor.log(name)} ends with:\n{supervisor.log_tail(name)}"
                )

    def down(self, wipe: bool = False) -> None:
        """Stop every process (kwok first, etcd last); `wipe` also deletes the store and the PKI."""
        for name in reversed(PROCESSES):
            self.supervisor.stop(name)
        if wipe:
            shutil.rmtree(self.root, ignore_errors=True)
