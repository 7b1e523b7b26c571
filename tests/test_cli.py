"""The main job: ``python -m sknnimp`` ranks the inputs of the diabetes data."""

import subprocess
import sys

from sklearn.datasets import load_diabetes

METHODS = ["weights", "garson", "olden", "gradient", "probe"]


def test_main_job_prints_a_ranking_per_method():
    completed = subprocess.run(
        [sys.executable, "-m", "sknnimp"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    lines = completed.stdout.splitlines()
    names = load_diabetes().feature_names
    for method in METHODS:
        start = lines.index(method)
        ranked = [line.split() for line in lines[start + 2 : start + 2 + len(names)]]
        assert [int(row[0]) for row in ranked] == list(range(1, len(names) + 1))
        assert sorted(row[1] for row in ranked) == sorted(names)
        values = [float(row[2]) for row in ranked]
        assert values == sorted(values, reverse=True)
