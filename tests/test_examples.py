"""The example scripts run as files, and the README shows them as they are."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DISTRIBUTED = ROOT / "examples" / "distributed_ablation.py"


def test_distributed_example_runs_as_a_script(tmp_path):
    # Run as a file from elsewhere, as a user would: Dask's worker processes
    # import the script again, which only works behind its main guard.
    pytest.importorskip("distributed")
    result = subprocess.run(
        [sys.executable, str(DISTRIBUTED)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "identical importances: True" in result.stdout.splitlines()
    assert "ConvergenceWarning" not in result.stderr


def _section(text, heading):
    """The README section under ``heading``, up to the next ``## `` heading."""
    match = re.search(
        rf"^{re.escape(heading)}\n(.*?)(?=^## |\Z)", text, flags=re.DOTALL | re.M
    )
    assert match, f"no section {heading!r} in README.md"
    return match.group(1)


def test_readme_shows_the_distributed_example():
    section = _section(README.read_text(), "## Parallel and distributed")
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert blocks == [DISTRIBUTED.read_text()]
