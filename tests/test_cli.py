"""The command line, driven as a user would: a subprocess, its output and status."""

import json
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, make_friedman1

FAST = ["--hidden", "16", "--n-repeats", "2"]


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "sknnimp", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def rankings(stdout, method, n_features):
    """``[(rank, feature, importance), ...]`` printed for ``method``."""
    lines = stdout.splitlines()
    start = lines.index(method)
    rows = [line.split() for line in lines[start + 2 : start + 2 + n_features]]
    return [(int(r[0]), r[1], float(r[2])) for r in rows]


def test_main_job_on_diabetes_ranks_every_input_for_every_method():
    completed = run("--n-repeats", "2")
    assert completed.returncode == 0, completed.stderr
    names = load_diabetes().feature_names
    for method in ["weights", "garson", "olden", "gradient", "probe", "permutation"]:
        ranked = rankings(completed.stdout, method, len(names))
        assert [r[0] for r in ranked] == list(range(1, len(names) + 1))
        assert sorted(r[1] for r in ranked) == sorted(names)
        values = [r[2] for r in ranked]
        assert values == sorted(values, reverse=True)
    assert "agreement between methods" in completed.stdout
    assert "overfitting check" in completed.stdout
    assert completed.stderr == ""  # no progress bar when stderr is not a terminal


def test_classification_dataset_with_cv_json_and_plot(tmp_path):
    report, picture = tmp_path / "out.json", tmp_path / "out.png"
    completed = run(
        "--dataset",
        "wine",
        "--methods",
        "gradient,permutation",
        "--cv",
        "3",
        "--json",
        str(report),
        "--plot",
        str(picture),
        "--progress",
        *FAST,
    )
    assert completed.returncode == 0, completed.stderr
    assert "classification" in completed.stdout.splitlines()[0]
    assert "95% CI" in completed.stdout
    assert "[sknnimp]" in completed.stderr  # --progress forces it
    data = json.loads(report.read_text())
    assert data["task"] == "classification"
    assert set(data["methods"]) == {"gradient", "permutation"}
    permutation = data["methods"]["permutation"]
    assert np.array(permutation["importances"]).shape == (13, 2 * 3)
    assert np.array(data["agreement"]["spearman"]).shape == (2, 2)
    assert len(data["overfitting"]["flagged"]) == 13
    assert picture.stat().st_size > 10_000


@pytest.fixture
def csv_file(tmp_path):
    X, y = make_friedman1(n_samples=150, random_state=0)
    names = [f"in_{i}" for i in range(X.shape[1])]
    lines = [",".join(["response", *names])]
    lines += [",".join(map(str, [t, *row])) for t, row in zip(y, X)]
    path = tmp_path / "friedman.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, names


def test_csv_with_named_columns_and_p_values(csv_file, tmp_path):
    path, names = csv_file
    completed = run(
        str(path),
        "--target",
        "response",
        "--methods",
        "gradient",
        "--null-repeats",
        "4",
        "--json",
        str(tmp_path / "r.json"),
        *FAST,
    )
    assert completed.returncode == 0, completed.stderr
    assert "regression" in completed.stdout.splitlines()[0]
    assert "p-value" in completed.stdout
    ranked = rankings(completed.stdout, "gradient", len(names))
    assert sorted(r[1] for r in ranked) == sorted(names)
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["features"] == names
    pvalues = np.array(data["methods"]["gradient"]["pvalues"])
    assert np.all((pvalues >= 1 / 5) & (pvalues <= 1))


def _write(tmp_path, text):
    path = tmp_path / "data.csv"
    path.write_text(text)
    return str(path)


def _fails(completed, *fragments):
    assert completed.returncode == 2
    message = completed.stderr.strip()
    assert len(message.splitlines()) == 1, message
    for fragment in fragments:
        assert fragment in message, message


def test_missing_file(tmp_path):
    _fails(run(str(tmp_path / "nope.csv")), "nope.csv")


def test_unknown_target_lists_the_columns(csv_file):
    path, names = csv_file
    _fails(run(str(path), "--target", "price"), "'price'", "response", names[3])


def test_non_numeric_columns_are_named_and_can_be_dropped(tmp_path):
    rows = ["a,city,b,y"] + [f"{i},c{i % 3},{i % 5},{i % 7 + 0.5}" for i in range(30)]
    path = _write(tmp_path, "\n".join(rows))
    _fails(run(path, *FAST), "city", "--drop-non-numeric")
    completed = run(path, "--drop-non-numeric", "--methods", "weights", *FAST)
    assert completed.returncode == 0, completed.stderr
    assert "city" not in completed.stdout


def test_missing_values_are_named_and_rows_can_be_dropped(tmp_path):
    rows = ["a,b,y"] + [
        f"{i},{'' if i == 4 else i % 5},{i % 7 + 0.5}" for i in range(30)
    ]
    path = _write(tmp_path, "\n".join(rows))
    _fails(run(path, *FAST), "column(s) b", "--drop-missing")
    completed = run(path, "--drop-missing", "--methods", "weights", *FAST)
    assert completed.returncode == 0, completed.stderr
    assert "29 rows" in completed.stdout


def test_target_with_one_value(tmp_path):
    path = _write(tmp_path, "\n".join(["a,y"] + [f"{i},3" for i in range(20)]))
    _fails(run(path), "single value")


def test_too_few_rows_for_cv(tmp_path):
    rows = ["a,b,y"] + [f"{i},{i * 2 % 5},{i % 2}" for i in range(7)]
    path = _write(tmp_path, "\n".join(rows))
    _fails(run(path, "--cv", "5"), "too few rows for --cv 5", "smallest class has 3")
    rows = ["a,b,y"] + [f"{i},{i * 2 % 5},{i * 1.5}" for i in range(4)]
    _fails(run(_write(tmp_path, "\n".join(rows)), "--cv", "5"), "there are 4")


def test_unknown_method():
    _fails(run("--methods", "gradient,shap"), "shap", "permutation")
