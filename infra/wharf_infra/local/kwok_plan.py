"""The steps of `make cluster TARGET=kwok` and `make destroy TARGET=kwok`.

The kwok target differs from kind only below the platform: instead of `pulumi up` of the cluster
program (kind in Docker) it builds the control plane from Go modules and starts it on loopback. The
platform program, its `local` stack config and the readiness code are the ones kind uses; the
config is rewritten for this target (no cluster stack: the provider reads $KUBECONFIG; the charts
from a copy of `$WHARF_UPSTREAM_DIR/charts` whose values schemas resolve their Kubernetes references
offline, as the chart repositories and schema URLs may be out of reach).
"""

from __future__ import annotations

import yaml

from wharf_infra.build.toolchain import KWOK_TOOLS
from wharf_infra.core.config import PLATFORM_KEY
from wharf_infra.core.paths import PLATFORM_PROGRAM, upstream_dir
from wharf_infra.local import handoff, readiness
from wharf_infra.local.kwok.control_plane import ControlPlane
from wharf_infra.local.plan import Step
from wharf_infra.local.state import SALT_LINE, STACK, ClusterState, stack_file
from wharf_infra.verify.helm_template import offline_copy

CONFIG_KEY = f"wharf-platform:{PLATFORM_KEY}"


def _build_toolchain() -> None:
    for tool in KWOK_TOOLS:
        print(f"  {tool.name} {tool.version}: {tool.build()}", flush=True)


def write_config(state: ClusterState) -> None:
    """The tracked `local` config with the kwok target's two differences; keeps the stack's salt."""
    charts = upstream_dir()
    if charts is None or not (charts / "charts").is_dir():
        raise SystemExit("the kwok target installs the charts from $WHARF_UPSTREAM_DIR/charts: set it")
    document = yaml.safe_load(stack_file(PLATFORM_PROGRAM).read_text())
    platform = document["config"][CONFIG_KEY]
    platform.pop("clusterStack", None)
    platform["chartsDir"] = str(offline_copy(charts / "charts", state.root / "charts"))
    target = state.platform_config_file
    if target.exists() and (salt := yaml.safe_load(target.read_text()).get("encryptionsalt")):
        document["encryptionsalt"] = salt
    target.write_text(yaml.safe_dump(document, sort_keys=False))


def _init_stack(state: ClusterState) -> None:
    """Create the stack once. `pulumi stack init` writes the passphrase's salt into the tracked
    stack file; move it into this target's config file and give the tracked file back unchanged."""
    if state.stack_exists(PLATFORM_PROGRAM):
        return
    tracked = stack_file(PLATFORM_PROGRAM)
    original = tracked.read_text()
    tracked.write_text(SALT_LINE.sub("", original))
    try:
        state.run_pulumi(PLATFORM_PROGRAM, "stack", "init", "--secrets-provider", "passphrase", STACK)
        salt = SALT_LINE.search(tracked.read_text())
    finally:
        tracked.write_text(original)
    if salt is None:
        raise SystemExit(f"pulumi stack init wrote no encryption salt into {tracked}")
    config = yaml.safe_load(state.platform_config_file.read_text())
    config["encryptionsalt"] = salt.group(0).split(":", 1)[1].strip()
    state.platform_config_file.write_text(yaml.safe_dump(config, sort_keys=False))


def _pulumi(state: ClusterState, title: str, *args: str) -> Step:
    return Step(
        title,
        ("pulumi", *args, "--stack", STACK, "--config-file", str(state.platform_config_file)),
        cwd=PLATFORM_PROGRAM,
    )


def cluster_steps(state: ClusterState) -> list[Step]:
    plane = ControlPlane(state.root)
    return [
        Step(
            "Build what is missing of the toolchain from the Go module proxy, once, into "
            "~/.cache/wharf/toolchain: " + ", ".join(f"{t.name} {t.version}" for t in KWOK_TOOLS),
            action=_build_toolchain,
        ),
        Step(
            "Start the control plane on loopback (etcd, kube-apiserver, kube-controller-manager, "
            f"kube-scheduler, kwok with two simulated nodes); kubeconfig {state.kubeconfig}",
            action=plane.up,
        ),
        Step(
            f"Prepare the local Pulumi backend {state.backend} and its passphrase file {state.passphrase}",
            action=state.prepare,
        ),
        Step(
            f"Write {state.platform_config_file}: the `{STACK}` stack config without clusterStack, "
            "with chartsDir = an offline copy of $WHARF_UPSTREAM_DIR/charts",
            action=lambda: write_config(state),
        ),
        Step(
            f"Create the platform stack `{STACK}` in that backend (once)", action=lambda: _init_stack(state)
        ),
        _pulumi(
            state, f"pulumi up: the platform program on stack `{STACK}`", "up", "--yes", "--skip-preview"
        ),
        Step(
            "Wait for every chart release, Deployment and StatefulSet, and check every custom resource "
            "was stored (kwok simulates containers: Ready means scheduled and admitted, not running)",
            action=lambda: readiness.wait_simulated(state),
        ),
        Step(
            f"Write the smoke target {state.smoke_target}: `make smoke` then runs its Kubernetes checks "
            "here and the data path on the native stack (kwok runs no containers)",
            action=lambda: handoff.write_smoke_target(state, handoff.simulated_smoke_target(state)),
        ),
    ]


def destroy_steps(state: ClusterState) -> list[Step]:
    plane = ControlPlane(state.root)

    def if_stack(step: Step) -> Step:
        return Step(
            step.title,
            step.argv,
            cwd=step.cwd,
            only_if=lambda: (
                plane.running()["kube-apiserver"] is not None and state.stack_exists(PLATFORM_PROGRAM)
            ),
            condition=f"if the control plane runs and the `{STACK}` stack exists",
        )

    return [
        if_stack(
            _pulumi(state, "pulumi destroy: every platform resource", "destroy", "--yes", "--skip-preview")
        ),
        Step(
            "Stop the control plane and delete its store, certificates and state",
            action=lambda: plane.down(wipe=True),
        ),
    ]
