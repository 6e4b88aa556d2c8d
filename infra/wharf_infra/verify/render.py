"""`make render`: run a program under Pulumi's mocks and write what it would deploy.

No cluster, no Pulumi CLI, no network. For a stack it writes to `build/render/<stack>/`:
`releases/<name>.yaml` (chart, version, final values), `objects/<kind>/<namespace>.<name>.yaml`
(every Kubernetes object, Secret values redacted), `cloud.yaml` (other provider resources), and
`summary.txt` (releases, objects by kind, CPU and memory requested by wharf's own objects), and
`charts/<release>.yaml`: each release rendered by `helm template` with those values (see helm_template.py;
this step needs the pinned helm, built once, and the charts: local copies or their repositories).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from wharf_infra.core.config import OIDC_CLIENT_SECRET_KEY
from wharf_infra.core.paths import INFRA_DIR, RENDER_DIR
from wharf_infra.core.quantities import cpu_millicores, memory_bytes
from wharf_infra.deploy.components.secrets import PASSWORD_TYPE
from wharf_infra.verify import helm_template

STACKS = ("local", "staging", "prod")
PROGRAMS = {"platform": "wharf-platform", "cluster": "wharf-cluster"}
RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"
DYNAMIC_TYPE = "pulumi-python:dynamic:Resource"
K8S_TYPE = re.compile(r"^kubernetes:(?P<group>[^:]+):(?P<kind>[A-Za-z]+)$")
REDACTED = "<redacted>"
# What mocked providers answer for values only a real deployment knows.
SECRET_PREFIX = "render-secret-"
FAKE_CLUSTER_OUTPUTS = {
    "kubeconfig": "apiVersion: v1\nkind: Config\n",
    "oidcProviderArn": "arn:aws:iam::000000000000:oidc-provider/oidc.eks.example",
    "oidcProviderUrl": "https://oidc.eks.example/id/RENDER",
}


@dataclass
class Recorder(pulumi.runtime.Mocks):
    """Mocks that record every resource a program declares."""

    resources: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ == "pulumi:pulumi:StackReference":
            return args.name, {"name": args.name, "outputs": FAKE_CLUSTER_OUTPUTS}
        if args.typ == PASSWORD_TYPE:
            state["result"] = f"{SECRET_PREFIX}{args.name}"
        if args.typ.startswith("aws:"):
            state.setdefault("arn", f"arn:aws:render:::{args.name}")
        if args.typ.startswith("eks:"):
            state |= {
                "kubeconfigJson": "{}",
                "oidcProviderArn": FAKE_CLUSTER_OUTPUTS["oidcProviderArn"],
                "oidcProviderUrl": FAKE_CLUSTER_OUTPUTS["oidcProviderUrl"],
            }
        if args.typ == DYNAMIC_TYPE:  # the kind cluster; its pickled provider is not part of the render
            state["kubeconfig"] = FAKE_CLUSTER_OUTPUTS["kubeconfig"]
        inputs = {key: value for key, value in args.inputs.items() if key != "__provider"}
        self.resources.append((args.typ, args.name, plain(inputs)))
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


def stack_config(program: str, stack: str) -> tuple[dict[str, str], list[str]]:
    """The stack file's config as the runtime sees it, plus placeholders for user-set secrets."""
    path = INFRA_DIR / program / f"Pulumi.{stack}.yaml"
    raw = yaml.safe_load(path.read_text()).get("config", {})
    config = {
        key: json.dumps(value) if isinstance(value, dict | list) else str(value) for key, value in raw.items()
    }
    secrets = [f"{PROGRAMS['platform']}:{OIDC_CLIENT_SECRET_KEY}"]
    config[secrets[0]] = f"{SECRET_PREFIX}oidc-client"
    return config, secrets


def run_program(program: str, stack: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Declare `program` for `stack` under mocks and return the recorded resources."""
    from wharf_infra.deploy.cluster import build_cluster
    from wharf_infra.deploy.platform import build_platform

    config, secrets = stack_config(program, stack)
    pulumi.runtime.set_all_config(config, secrets)
    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, project=PROGRAMS[program], stack=stack, preview=False)

    def declare() -> None:
        if program == "platform":
            build_platform(stack)
        else:
            build_cluster()

    _sync_await(run_pulumi_func(declare))
    return recorder.resources


SECRET_SIG = "4dabf18193072939515e22adb298388d"  # how the Pulumi wire format marks a secret value


def plain(value: Any) -> Any:
    """Inputs as plain data: secrets unwrapped, integral numbers (floats on the wire) as ints."""
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return plain(value.get("value"))
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def manifest(typ: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """A Kubernetes object as `kubectl apply` would see it, Secret values redacted."""
    match = K8S_TYPE.match(typ)
    assert match, typ
    group = match["group"]
    api_version = group.removeprefix("core/") if group.startswith("core/") else group
    body = {k: v for k, v in inputs.items() if k not in ("apiVersion", "kind")}
    obj = {
        "apiVersion": inputs.get("apiVersion", api_version),
        "kind": inputs.get("kind", match["kind"]),
        **body,
    }
    if obj["kind"] == "Secret":
        for key in ("data", "stringData"):
            if key in obj:
                obj[key] = dict.fromkeys(obj[key], REDACTED)
    return obj


def pod_specs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj.get("spec", {})
    if obj["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"):
        return [spec["template"]["spec"]]
    if obj["kind"] == "Job":
        return [spec["template"]["spec"]]
    if obj["kind"] == "CronJob":
        return [spec["jobTemplate"]["spec"]["template"]["spec"]]
    if obj["kind"] == "Pod":
        return [spec]
    return []


def requested(objects: list[dict[str, Any]], releases: list[dict[str, Any]]) -> tuple[int, int]:
    """(millicores, bytes) requested: wharf's own pods and every `resources.requests` in chart values.

    Chart values are counted once per block (one replica), which is what the local stack runs.
    """
    cpu = memory = 0
    for obj in objects:
        replicas = obj.get("spec", {}).get("replicas", 1) or 1
        for pod in pod_specs(obj):
            for container in pod.get("containers", []):
                req = container.get("resources", {}).get("requests", {})
                cpu += replicas * cpu_millicores(req.get("cpu", "0"))
                memory += replicas * memory_bytes(req.get("memory", "0"))
        if obj["kind"] == "Cluster" and obj["apiVersion"].startswith("postgresql.cnpg.io"):
            req = obj["spec"]["resources"]["requests"]
            cpu += obj["spec"]["instances"] * cpu_millicores(req["cpu"])
            memory += obj["spec"]["instances"] * memory_bytes(req["memory"])
    for release in releases:
        for block in _requests_blocks(release["values"]):
            cpu += cpu_millicores(block.get("cpu", "0"))
            memory += memory_bytes(block.get("memory", "0"))
    return cpu, memory


def _requests_blocks(values: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(values, dict):
        for key, value in values.items():
            if key == "requests" and isinstance(value, dict):
                found.append(value)
            else:
                found += _requests_blocks(value)
    elif isinstance(values, list):
        for item in values:
            found += _requests_blocks(item)
    return found


def render(stack: str, out: Path) -> str:
    """Render both programs of `stack` into `out`; return the summary text."""
    if out.exists():
        shutil.rmtree(out)
    objects: list[dict[str, Any]] = []
    releases: list[dict[str, Any]] = []
    cloud: list[dict[str, Any]] = []
    for program in ("cluster", "platform"):
        for typ, name, inputs in run_program(program, stack):
            if typ == RELEASE_TYPE:
                releases.append(
                    {
                        "name": inputs["name"],
                        "namespace": inputs["namespace"],
                        "chart": inputs["chart"],
                        "version": inputs.get("version"),
                        "repository": inputs.get("repositoryOpts", {}).get("repo"),
                        "values": inputs.get("values", {}),
                    }
                )
            elif K8S_TYPE.match(typ) and not typ.startswith("kubernetes:helm"):
                objects.append(manifest(typ, inputs))
            elif typ == DYNAMIC_TYPE:  # the kind cluster: what it is made from is in its inputs
                cloud.append({"type": typ, "name": name, "program": program, "inputs": inputs})
            elif not typ.startswith(("pulumi:", "wharf:")):
                cloud.append({"type": typ, "name": name, "program": program})
    for release in releases:
        _write(out / "releases" / f"{release['name']}.yaml", release)
        (out / "charts").mkdir(parents=True, exist_ok=True)
        (out / "charts" / f"{release['name']}.yaml").write_text(helm_template.template(release))
    for obj in objects:
        meta = obj.get("metadata", {})
        file_name = f"{meta.get('namespace') or '_cluster'}.{meta['name']}.yaml"
        _write(out / "objects" / obj["kind"] / file_name, obj)
    _write(out / "cloud.yaml", cloud)
    cpu, memory = requested(objects, releases)
    kinds = Counter(obj["kind"] for obj in objects)
    lines = [f"stack {stack}", "", "releases:"]
    lines += [f"  {r['name']:<14} {r['chart']} {r['version']} -> {r['namespace']}" for r in releases]
    lines += ["", "objects by kind:"] + [f"  {kind:<22} {count}" for kind, count in sorted(kinds.items())]
    lines += [
        "",
        f"cloud resources: {len(cloud)}",
        f"requests: cpu {cpu / 1000:.2f} cores, memory {memory / 2**30:.2f} GiB "
        "(wharf's objects and CNPG instances per replica; chart values' requests blocks once each)",
    ]
    summary = "\n".join(lines) + "\n"
    (out / "summary.txt").write_text(summary)
    return summary


def _write(path: Path, content: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(content, sort_keys=False))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--stack", choices=STACKS, required=True)
    parser.add_argument("--out", type=Path, help="default: build/render/<stack>")
    args = parser.parse_args(argv)
    print(render(args.stack, args.out or RENDER_DIR / args.stack), end="")


if __name__ == "__main__":
    main()
