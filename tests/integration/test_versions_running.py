"""What the native stack's Trino and Nessie really run is the version the cluster's images pin."""

import json
import urllib.request
import zipfile

import psutil

from wharf_infra.core.versions import versions
from wharf_infra.native import processes
from wharf_infra.native.settings import settings


def test_trino_answers_with_the_pinned_version(stack: dict[str, str]) -> None:
    with urllib.request.urlopen(f"{settings().url('trino')}/v1/info", timeout=30) as answer:
        info = json.load(answer)
    assert info["nodeVersion"]["version"] == versions().image_version("trino")


def test_nessie_runs_the_pinned_release(stack: dict[str, str]) -> None:
    """Nessie's API does not report its version: the jar the running process loaded does."""
    pid = processes.running_pid("nessie")
    assert pid is not None, "Nessie does not run"
    arguments = psutil.Process(pid).cmdline()
    jar = arguments[arguments.index("-jar") + 1]
    with zipfile.ZipFile(jar) as archive:
        manifest = archive.read("META-INF/MANIFEST.MF").decode()
    version = next(
        line.split(":", 1)[1].strip() for line in manifest.splitlines() if line.startswith("Nessie-Version:")
    )
    assert version == versions().image_version("nessie")
