"""Shared fixtures: the repository's paths and the `kensa` binary the CLI comparisons run."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TODAY = "2026-11-27"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def kensa_bin() -> str:
    """The CLI built from this checkout (KENSA_BIN, else target/debug/kensa)."""
    path = os.environ.get("KENSA_BIN") or str(ROOT / "target" / "debug" / "kensa")
    if not os.access(path, os.X_OK):
        pytest.fail(f"no kensa binary at {path}: run `cargo build` or set KENSA_BIN")
    return path


def run_cli(kensa_bin: str, *args: str) -> list:
    """Run the CLI; its standard output as lines (exit codes 0 and 1 are both results)."""
    done = subprocess.run([kensa_bin, *args], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode in (0, 1), done.stderr
    return [line for line in done.stdout.splitlines() if line]
