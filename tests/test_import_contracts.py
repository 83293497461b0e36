"""The import rules of pyproject.toml's [tool.importlinter] hold: `lint-imports`, as `make lint` runs it.

Layers cli > api > activities > workflows | db > statemachines | carflow, statemachines and
carflow importing nothing of ours, db nothing above it, no cycle between api's packages.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_import_contracts_are_kept() -> None:
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout, result.stdout
