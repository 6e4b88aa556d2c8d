"""What `make lint` checks, in CI too: ruff, ruff format, mypy, and the layout's import rules."""

import subprocess
import sys
from pathlib import Path

import pytest

from wharf_infra.core.paths import REPO_ROOT

CHECKS = {
    "ruff": ["ruff", "check", "."],
    "ruff-format": ["ruff", "format", "--check", "."],
    "mypy": ["mypy", "infra", "code_locations", "tests"],
    "import-rules": ["lint-imports"],  # [tool.importlinter] in pyproject.toml
}


@pytest.mark.parametrize("check", CHECKS)
def test_the_tree_passes(check: str) -> None:
    tool, *args = CHECKS[check]
    command = [str(Path(sys.executable).parent / tool), *args]  # the tools of this environment
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=900)
    assert result.returncode == 0, (
        f"{' '.join(CHECKS[check])} found:\n{result.stdout[-6000:]}{result.stderr[-2000:]}"
    )
