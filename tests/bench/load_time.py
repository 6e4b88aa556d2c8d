"""Code-location load time against the bare import of the libraries each one loads.

For every location of the registry, in fresh interpreters: (1) import its module and resolve its
Definitions, recording which third-party modules that pulled in; (2) import exactly those modules
and nothing of wharf's. The difference is what wharf's own code costs at load: the goal is at most
1 s per location. Prints a table; the median of several runs of each.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile

from wharf_infra.core.registry import load_registry

RUNS = 3
OWN_PACKAGES = ("wharf_shared", "wharf_infra", "weather", "bioreactor", "analytics")

LOAD = """
import json, sys, time
start = time.perf_counter()
import importlib
defs = importlib.import_module({module!r}).defs
defs.get_repository_def()
elapsed = time.perf_counter() - start
own = {own!r}
third_party = [m for m in sys.modules if m.split(".")[0] not in own and not m.startswith("__")]
print(json.dumps({{"seconds": elapsed, "modules": third_party}}))
"""

BARE = """
import importlib, json, sys, time
modules = json.load(open({path!r}))
start = time.perf_counter()
for name in modules:
    if name not in sys.modules:
        try:
            importlib.import_module(name)
        except Exception:
            pass
print(json.dumps({{"seconds": time.perf_counter() - start}}))
"""


def _run(code: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    print(f"{'location':<12} {'load s':>8} {'bare libs s':>12} {'own s':>8}  goal own <= 1.0 s")
    for location in load_registry():
        loads = [_run(LOAD.format(module=location.module, own=OWN_PACKAGES)) for _ in range(RUNS)]
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(loads[0]["modules"], handle)
        bares = [_run(BARE.format(path=handle.name)) for _ in range(RUNS)]
        load = statistics.median(float(str(r["seconds"])) for r in loads)
        bare = statistics.median(float(str(r["seconds"])) for r in bares)
        verdict = "ok" if load - bare <= 1.0 else "OVER"
        print(f"{location.name:<12} {load:>8.2f} {bare:>12.2f} {load - bare:>8.2f}  {verdict}")


if __name__ == "__main__":
    main()
