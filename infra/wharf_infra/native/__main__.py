"""`make native-up | native-down | native-status`: the native service stack.

python -m wharf_infra.native up            start everything (obtaining what is missing)
python -m wharf_infra.native down [--wipe] stop what it started; --wipe also deletes the data
python -m wharf_infra.native status        what runs, and where
python -m wharf_infra.native env           the services profile's variables, as shell exports
"""

from __future__ import annotations

import argparse
import shlex
import sys

from wharf_infra.native.dagster import platform_env
from wharf_infra.native.processes import StackError
from wharf_infra.native.stack import down, status, up


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
