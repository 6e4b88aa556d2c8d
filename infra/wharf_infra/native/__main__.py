"""`make native-up | native-down | native-status`: the native service stack.

python -m wharf_infra.native up            start everything (obtaining what is missing)
python -m wharf_infra.native down [--wipe] stop what it started; --wipe also deletes the data
python -m wharf_infra.native status        what runs, and where
python -m wharf_infra.native env           the services profile's variables, as shell exports
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys

from wharf_infra.native.dagster import Dagster, platform_env
from wharf_infra.native.processes import StackError
from wharf_infra.native.services import Marquez, Minio, Nessie, Postgres, Service, Trino
from wharf_infra.native.settings import settings


def services() -> list[Service]:
    """In start order: each depends only on those before it."""
    return [Postgres(), Minio(), Nessie(), Marquez(), Trino(), Dagster()]


def ensure_up() -> bool:
    """Start the stack unless every service already runs; return whether this call started it."""
    if all(service.healthy() for service in services()):
        return False
    up()
    return True


def up() -> None:
    for service in services():
        print(f"{service.name}: starting", file=sys.stderr, flush=True)
        service.up()


def down(wipe: bool = False) -> None:
    for service in reversed(services()):
        service.down()
        print(f"{service.name}: stopped", file=sys.stderr)
    if wipe:
        Postgres().wipe()
        shutil.rmtree(settings().state_dir, ignore_errors=True)
        print(f"wiped {settings().state_dir}", file=sys.stderr)


def status() -> bool:
    all_up = True
    for service in services():
        healthy = service.healthy()
        all_up &= healthy
        where = settings().url(service.name) if service.name in settings().ports else ""
        print(f"{service.name:<10} {'up' if healthy else 'down':<5} {where}")
    return all_up


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up")
    sub.add_parser("status")
    sub.add_parser("env")
    down_parser = sub.add_parser("down")
    down_parser.add_argument("--wipe", action="store_true", help="also delete the stack's data")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            up()
            status()
        elif args.command == "down":
            down(args.wipe)
        elif args.command == "status":
            sys.exit(0 if status() else 1)
        else:
            print("\n".join(f"export {k}={shlex.quote(v)}" for k, v in platform_env().items()))
    except StackError as error:
        sys.exit(f"stack: {error}")


if __name__ == "__main__":
    main()
