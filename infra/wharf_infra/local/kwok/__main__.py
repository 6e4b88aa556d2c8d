"""`python -m wharf_infra.local.kwok up|down|status`: the control plane alone (no platform on it)."""

from __future__ import annotations

import argparse

from wharf_infra.build.toolchain import ToolchainError
from wharf_infra.core.supervisor import ProcessError
from wharf_infra.local.kwok.control_plane import ControlPlane


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=("up", "down", "status"))
    parser.add_argument(
        "--wipe", action="store_true", help="with down: delete the store and the certificates"
    )
    args = parser.parse_args(argv)
    plane = ControlPlane.default()
    try:
        if args.command == "up":
            plane.up()
            print(f"control plane up; export KUBECONFIG={plane.kubeconfig}")
        elif args.command == "down":
            plane.down(wipe=args.wipe)
        for name, pid in plane.running().items():
            print(f"  {name:<24} {'running, pid ' + str(pid) if pid else 'stopped'}")
    except (ProcessError, ToolchainError) as error:
        raise SystemExit(str(error)) from None


if __name__ == "__main__":
    main()
