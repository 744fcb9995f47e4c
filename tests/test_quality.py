"""The project's own standards, run with the suite: ruff, and mypy --strict on src/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, check=False)


def test_ruff_finds_nothing() -> None:
    done = _run("ruff", "check", "src", "tests")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_passes_on_src() -> None:
    done = _run("mypy")
    assert done.returncode == 0, done.stdout + done.stderr
