"""Every Python code block of the README runs as written."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_readme_has_code():
    assert BLOCKS


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index):
    if "import torch" in BLOCKS[index]:
        pytest.importorskip("torch")
        pytest.importorskip("skorch")
    exec(compile(BLOCKS[index], f"README.md block {index}", "exec"), {})
