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
    completed = run(*FAST)
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
    # Shuffled, stratified folds, and held-out p-values for permutation without
    # refits.
    assert "3 shuffled held-out folds" in completed.stdout
    assert "permutation" in completed.stdout and "p-value" in completed.stdout
    assert "[sknnimp]" in completed.stderr  # --progress forces it
    data = json.loads(report.read_text())
    assert data["task"] == "classification"
    assert set(data["methods"]) == {"gradient", "permutation"}
    permutation = data["methods"]["permutation"]
    assert np.array(permutation["importances"]).shape == (13, 2 * 3)
    assert np.all(np.array(permutation["pvalues"]) <= 1)
    assert permutation["baseline_score"] > 0.8  # held-out accuracy
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


def test_non_numeric_columns_are_encoded_or_left_out_on_request(tmp_path):
    rows = ["a,city,b,y"] + [f"{i},c{i % 3},{i % 5},{i % 7 + 0.5}" for i in range(30)]
    path = _write(tmp_path, "\n".join(rows))
    completed = run(path, "--methods", "weights", *FAST)
    assert completed.returncode == 0, completed.stderr
    assert "1 categorical" in completed.stdout
    assert "city" in completed.stdout.split("weights")[1]
    completed = run(path, "--drop-non-numeric", "--methods", "weights", *FAST)
    assert completed.returncode == 0, completed.stderr
    assert "column city left out: not numeric" in completed.stdout
    assert "city" not in completed.stdout.split("weights")[1]


def test_missing_values_are_imputed_or_their_rows_dropped(tmp_path):
    rows = ["a,b,y"] + [
        f"{i},{'' if i == 4 else i % 5},{i % 7 + 0.5}" for i in range(30)
    ]
    path = _write(tmp_path, "\n".join(rows))
    completed = run(path, "--methods", "weights", *FAST)
    assert completed.returncode == 0, completed.stderr
    assert "30 rows" in completed.stdout
    completed = run(path, "--drop-missing", "--methods", "weights", *FAST)
    assert completed.returncode == 0, completed.stderr
    assert "29 rows" in completed.stdout
    assert "1 row(s) with a missing input dropped" in completed.stdout


def test_penguins_csv_with_categories_and_missing_values(tmp_path):
    penguins = pytest.importorskip("palmerpenguins").load_penguins()
    path = tmp_path / "penguins.csv"
    penguins.to_csv(path, index=False)
    completed = run(
        str(path), "--target", "species", "--methods", "gradient,permutation", *FAST
    )
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert "344 rows, 7 inputs" in lines[0] and "classification" in lines[0]
    assert "held-out" in lines[1] and "training data" in lines[1]
    ranked = rankings(completed.stdout, "permutation", 7)
    assert {r[1] for r in ranked} == set(penguins.columns) - {"species"}
    assert ranked[0][1].startswith("bill_")
    assert "warning" not in completed.stdout


def test_identifiers_constants_and_dates_are_left_out_with_a_note(tmp_path):
    rng = np.random.RandomState(0)
    n = 60
    x = rng.normal(size=n)
    rows = ["id,code,when,unit,x,colour,y"] + [
        f"{i + 1},k{i:03d},2024-01-{i % 28 + 1:02d},kg,{x[i]:.4f},"
        f"{'red' if i % 2 else 'blue'},{'high' if x[i] > 0 else 'low'}"
        for i in range(n)
    ]
    path = _write(tmp_path, "\n".join(rows))
    completed = run(path, "--methods", "weights", *FAST)
    assert completed.returncode == 0, completed.stderr
    out = completed.stdout
    assert "column id left out: an identifier" in out
    assert "column code left out: an identifier" in out
    assert "column when left out: a date-time" in out
    assert "column unit left out: constant" in out
    assert "60 rows, 2 inputs" in out  # x and colour; string labels high/low
    ranked = rankings(out, "weights", 2)
    assert {r[1] for r in ranked} == {"x", "colour"}
    completed = run(path, "--exclude", "colour", "--methods", "weights", *FAST)
    assert "column colour left out: excluded" in completed.stdout
    assert "60 rows, 1 inputs" in completed.stdout
    _fails(run(path, "--exclude", "colour,shape"), "--exclude", "shape", "colour")


def test_rows_without_a_target_are_left_out_with_a_note(tmp_path):
    rows = ["a,b,y"] + [
        f"{i},{i % 5},{'' if i in (3, 8) else i % 7 + 0.5}" for i in range(30)
    ]
    completed = run(_write(tmp_path, "\n".join(rows)), "--methods", "weights", *FAST)
    assert completed.returncode == 0, completed.stderr
    assert "2 row(s) without a value of y left out" in completed.stdout
    assert "28 rows" in completed.stdout


def test_a_model_that_learned_nothing_is_flagged(tmp_path):
    rng = np.random.RandomState(0)
    rows = ["a,b,y"] + [
        f"{a:.3f},{b:.3f},{t:.3f}" for a, b, t in rng.normal(size=(60, 3))
    ]
    completed = run(_write(tmp_path, "\n".join(rows)), "--methods", "weights", *FAST)
    assert completed.returncode == 0, completed.stderr
    assert "warning: the held-out R^2 is R^2 <= 0" in completed.stdout


def test_header_only_file(tmp_path):
    _fails(run(_write(tmp_path, "a,b,y\n")), "no rows")


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
