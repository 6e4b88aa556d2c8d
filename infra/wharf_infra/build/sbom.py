"""A CycloneDX SBOM per built image, read from the image itself: Debian packages (dpkg), Python
packages (each virtual environment's metadata), Java archives, and the Go modules compiled into
its Go binaries (`go version -m`, run on the image's copy of each binary)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from wharf_infra.core.paths import cache_dir

# One pass inside the image: `kind<TAB>name<TAB>version` lines, and the paths of ELF Go binaries.
INVENTORY = r"""
command -v dpkg-query >/dev/null && dpkg-query -W -f='deb\t${Package}\t${Version}\n'
for python in /app/.venv/bin/python /opt/dagster/.venv/bin/python; do
  [ -x "$python" ] && "$python" -c 'import importlib.metadata as m
for d in m.distributions(): print("pypi\t%s\t%s" % (d.metadata["Name"], d.version))'
done
find / -xdev -name '*.jar' -not -path '/proc/*' 2>/dev/null | sed 's/^/jar\t/'
for binary in /usr/bin/minio /usr/local/bin/traefik /bin/oauth2-proxy; do
  [ -f "$binary" ] && printf 'gobin\t%s\n' "$binary"
done
true
"""


PURL_TYPES = {"deb": "deb/debian", "pypi": "pypi"}


def sbom_dir() -> Path:
    return cache_dir() / "images" / "sbom"


def _go_modules(reference: str, binary: str) -> list[dict[str, str]]:
    if shutil.which("go") is None:
        return []
    with tempfile.TemporaryDirectory() as work:
        container = subprocess.run(
            ["docker", "create", reference], capture_output=True, text=True
        ).stdout.strip()
        try:
            subprocess.run(["docker", "cp", f"{container}:{binary}", work], check=True, capture_output=True)
        finally:
            subprocess.run(["docker", "rm", container], capture_output=True)
        out = subprocess.run(
            ["go", "version", "-m", str(Path(work) / Path(binary).name)], capture_output=True, text=True
        ).stdout
    return [
        {"type": "library", "name": m[0], "version": m[1], "purl": f"pkg:golang/{m[0]}@{m[1]}"}
        for m in re.findall(r"^\s+(?:dep|mod)\s+(\S+)\s+(\S+)", out, re.M)
    ]


def components(reference: str) -> list[dict[str, str]]:
    result = subprocess.run(
        ["docker", "run", "--rm", "--user", "0", "--entrypoint", "sh", reference, "-c", INVENTORY],
        capture_output=True,
        text=True,
        check=False,
    )
    found: list[dict[str, str]] = []
    for line in result.stdout.splitlines():
        kind, _, rest = line.partition("\t")
        if kind in PURL_TYPES:
            name, version = rest.split("\t")
            purl = f"pkg:{PURL_TYPES[kind]}/{name.lower() if kind == 'pypi' else name}@{version}"
            found.append({"type": "library", "name": name, "version": version, "purl": purl})
        elif kind == "jar":
            found.append({"type": "library", "name": Path(rest).name, "version": "", "purl": ""})
        elif kind == "gobin":
            found += _go_modules(reference, rest)
    return [{k: v for k, v in c.items() if v} for c in found]


def write_sbom(name: str, reference: str) -> Path:
    """Write `<sbom_dir>/<name>.cdx.json` for `reference` and return its path."""
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {"component": {"type": "container", "name": reference}},
        "components": components(reference),
    }
    sbom_dir().mkdir(parents=True, exist_ok=True)
    path = sbom_dir() / f"{name}.cdx.json"
    path.write_text(json.dumps(document, indent=1) + "\n")
    return path
