"""`python -m wharf_infra.local up|down [--plan]` (what `make cluster` / `make destroy` run), and
`smoke-target`: the smoke target file of the cluster that is up, if any (what `make smoke` reads)."""

from __future__ import annotations

import argparse
import subprocess

from wharf_infra.build.toolchain import ToolchainError
from wharf_infra.core.supervisor import ProcessError
from wharf_infra.local import kind_plan, kwok_plan, plan, prerequisites
from wharf_infra.local.state import TARGETS, ClusterState

COMMANDS = {
    ("up", "kind"): ("make cluster", kind_plan.cluster_steps, prerequisites.TOOLS),
    ("down", "kind"): ("make destroy", kind_plan.destroy_steps, kind_plan.DESTROY_TOOLS),
    ("up", "kwok"): ("make cluster TARGET=kwok", kwok_plan.cluster_steps, ()),
    ("down", "kwok"): ("make destroy TARGET=kwok", kwok_plan.destroy_steps, ()),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="The local stack on kind or kwok: create (up) or remove (down)."
    )
    parser.add_argument("command", choices=("up", "down", "smoke-target"))
    parser.add_argument(
        "--target",
        choices=TARGETS,
        help="kind (Docker) or kwok (no Docker); by default kind for up, else the one that is up",
    )
    parser.add_argument("--plan", action="store_true", help="print every step instead of running them")
    args = parser.parse_args(argv)
    up = ClusterState.up()
    chosen = args.target or ("kind" if args.command == "up" or up is None else up.target)
    state = ClusterState.default(chosen)
    if args.command == "smoke-target":
        print(state.smoke_target if state.smoke_target.is_file() else "")
        return
    target, steps_of, tools = COMMANDS[(args.command, chosen)]
    steps = steps_of(state)
    if args.plan:
        print(f"{target} would run, in order:\n{plan.describe(steps, state)}")
        if found := prerequisites.problems(tools, state.env()["PATH"]):
            listed = "\n".join(f"  - {p}" for p in found)
            print(f"On this machine it would stop at step 1:\n{listed}")
        return
    try:
        plan.run(steps, state)
    except (ProcessError, ToolchainError) as error:
        raise SystemExit(f"{target} stopped: {error}") from None
    except subprocess.CalledProcessError as error:
        raise SystemExit(
            f"{target} stopped: `{' '.join(map(str, error.cmd))}` exited with {error.returncode} "
            "(its output is above). Fix the cause and re-run; finished steps are not redone."
        ) from None


if __name__ == "__main__":
    main()
