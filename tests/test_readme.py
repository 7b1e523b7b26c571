"""Every Python code block of the README runs as written."""

import re
import warnings
from pathlib import Path

import pytest
from sklearn.exceptions import ConvergenceWarning

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


def test_tour_networks_converge(monkeypatch):
    """The Tour's default networks (the fit and the five fold fits) converge: no
    ConvergenceWarning, not even from the fold fits, which the package fits without
    showing theirs."""
    from sknnimp import _importance, _parallel

    monkeypatch.setattr(_importance, "refit", _parallel.fit_weighted)
    tour = next(block for block in BLOCKS if "load_penguins()  # 344" in block)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        exec(compile(tour, "README.md Tour", "exec"), {})
