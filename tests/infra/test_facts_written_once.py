"""Each platform fact has one home in `infra/`: a guard that finds repeats by itself.

Every literal in `infra/wharf_infra/` that names a port, a region, a wharf-named object (principal,
Secret, ConfigMap, issuer), a kebab-case name (chart, namespace, component) or a camelCase config
key is collected from the syntax tree (docstrings aside); one written in two modules fails, naming
both. A repeat that is two facts which happen to share a value is exempted below, with why.
"""

import ast
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from wharf_infra.core.paths import INFRA_DIR

PACKAGE = INFRA_DIR / "wharf_infra"
PORTS = range(1024, 65536)  # below: the well-known ports (53, 80, 443), the same fact everywhere
FACT_LIKE = (
    re.compile(r"[a-z]{2}(-gov)?-[a-z]+-\d"),  # a cloud region
    re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)+"),  # kebab-case: wharf-*, charts, namespaces, Secrets
    re.compile(r"[a-z]+([A-Z][a-z0-9]+)*(Secret|Password)"),  # a stack config key
)

# value -> why the same literal in several modules is not one fact written twice
EXEMPT: dict[object, str] = {
    3000: "three facts: the Marquez web UI's port, a Go build's wait, a native download's timeout",
    2000: "a native download's chunk and a service's wait, not a platform fact",
    3600: "an hour, in seconds (run-Job TTL, a presigned URL)",
    "kube-apiserver": "the Kubernetes binaries' own names: built (toolchain), certified and run (kwok)",
    "kube-controller-manager": "as kube-apiserver",
    "kube-scheduler": "as kube-apiserver",
    "kube-proxy": "as kube-apiserver: built (toolchain), its image staged, and its archive in the kind node",
    "kube-router": "the program's own name: built (toolchain), deployed (the policy enforcer), and the "
    "stack setting that chooses it",
    "oauth2-proxy": "the program's own name: built (toolchain) and deployed (the gateway's login)",
    "controller-manager": "a certificate's subject and its kubeconfig user, in the kwok control plane",
    "cert-manager": "two facts: the chart (and release) name, and the namespace it is installed in",
    8000: "two facts: CloudNativePG's instance-manager port, and Traefik's web entry point",
    "marquez-web": "two facts: the web UI's Deployment, and its image recipe (images/marquez-web/)",
}


def _docstrings(tree: ast.AST) -> set[int]:
    bodies = (n for n in ast.walk(tree) if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef))
    return {
        id(body[0].value)
        for body in (n.body for n in bodies)
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    }


def _facts(path: Path) -> Iterator[object]:
    tree = ast.parse(path.read_text())
    docstrings = _docstrings(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Constant) or id(node) in docstrings or isinstance(node.value, bool):
            continue
        value = node.value
        if (isinstance(value, int) and value in PORTS) or (
            isinstance(value, str) and any(p.fullmatch(value) for p in FACT_LIKE)
        ):
            yield value


def repeated_facts(root: Path) -> dict[object, list[str]]:
    """Fact-like literals written in more than one module under `root`, with those modules."""
    homes: dict[object, set[str]] = defaultdict(set)
    for path in sorted(root.rglob("*.py")):
        for fact in _facts(path):
            homes[fact].add(str(path.relative_to(root)))
    return {fact: sorted(files) for fact, files in homes.items() if len(files) > 1 and fact not in EXEMPT}


def test_each_fact_is_written_in_one_module() -> None:
    repeated = repeated_facts(PACKAGE)
    assert not repeated, "written in several modules; give each one home and import it:\n" + "\n".join(
        f"  {fact!r}: {', '.join(files)}" for fact, files in repeated.items()
    )


def test_the_guard_finds_a_repeat(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text('"""A docstring naming us-east-1."""\nREGION = "us-east-1"\nPORT = 9000\n')
    (tmp_path / "b.py").write_text(
        'def f() -> None:\n    connect("us-east-1", port=9000, key="rootPassword")\n'
    )
    (tmp_path / "c.py").write_text('KEY = "rootPassword"\n')
    assert repeated_facts(tmp_path) == {
        "us-east-1": ["a.py", "b.py"],
        9000: ["a.py", "b.py"],
        "rootPassword": ["b.py", "c.py"],
    }


def test_every_exemption_is_still_needed() -> None:
    homes: dict[object, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        for fact in _facts(path):
            homes[fact].add(path.name)
    assert not [fact for fact in EXEMPT if len(homes[fact]) < 2]
