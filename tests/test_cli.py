"""The command line, driven as a user would: a subprocess, its output and status."""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, make_friedman1

from sknnimp import _cli

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
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{method}: "))
    rows = [line.split() for line in lines[start + 2 : start + 2 + n_features]]
    return [(int(r[0]), r[1], float(r[2])) for r in rows]


def test_main_job_on_diabetes_ranks_every_input_for_every_method():
    methods = ["weights", "garson", "olden", "gradient", "probe", "permutation"]
    completed = run("--methods", ",".join(methods), "--cv", "2", *FAST)
    assert completed.returncode == 0, completed.stderr
    names = load_diabetes().feature_names
    for method in methods:
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
    assert "95% interval" in completed.stdout
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
    assert "city" in completed.stdout.split("\nweights: ")[1]
    completed = run(path, "--drop-non-numeric", "--methods", "weights", *FAST)
    assert completed.returncode == 0, completed.stderr
    assert "column city left out: not numeric" in completed.stdout
    assert "city" not in completed.stdout.split("\nweights: ")[1]


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
    assert "warning: the held-out R^2 is no better than a constant" in completed.stdout
    assert "The network is not worth explaining" in completed.stdout


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
    _fails(run("--methods", "gradient,lime"), "lime", "permutation")


# Bad input, in process: status 2, one line naming the problem, and no fitting.


@pytest.fixture
def no_fitting(monkeypatch):
    """Make any fitting fail the test: bad input must be refused before it."""

    def refuse(*args, **kwargs):
        raise AssertionError("a model was built before the input was checked")

    monkeypatch.setattr(_cli, "default_estimator", refuse)


def _refused(capsys, args, *fragments):
    try:
        status = _cli.main([str(arg) for arg in args])
    except SystemExit as exit:  # argparse's own errors
        status = exit.code
    out, err = capsys.readouterr()
    assert status == 2, out + err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sknnimp: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def _table(tmp_path, header=("a", "b", "y"), sep=",", decimal=".", n=60, **options):
    """A small CSV (``y = a + b / 2``) written with the given dialect."""
    rng = np.random.RandomState(0)
    a, b = rng.normal(size=(2, n))
    rows = np.round(np.column_stack([a, b, a + b / 2]), 3)
    lines = [sep.join(header)] + [
        sep.join(f"{value:.3f}".replace(".", decimal) for value in row)
        + options.get("trailing", "")
        for row in rows
    ]
    path = tmp_path / options.get("name", "table.csv")
    text = options.get("bom", "") + "\n".join(lines) + "\n"
    path.write_text(text, encoding=options.get("encoding", "utf-8"))
    return path, rows


def test_header_only_file_is_refused_before_fitting(tmp_path, capsys, no_fitting):
    path = tmp_path / "head.csv"
    path.write_text("a,b,y\n")
    _refused(capsys, [path], "has a header but no rows")


def test_infinite_values_are_refused_naming_their_columns(tmp_path, capsys, no_fitting):
    path, _ = _table(tmp_path)
    lines = path.read_text().splitlines()
    lines[3], lines[7], lines[9] = "inf,1.0,2.0", "-inf,1.0,inf", "1e400,0.5,1.0"
    path.write_text("\n".join(lines))
    _refused(capsys, [path], "infinite", "a (3 rows), y (1 row)")


@pytest.mark.parametrize("option", ["--json", "--plot"])
def test_an_output_path_that_cannot_be_written_is_refused_first(
    tmp_path, capsys, no_fitting, option
):
    name = "out.json" if option == "--json" else "out.png"
    # Checked before the data are read: this file does not exist either.
    data = tmp_path / "absent.csv"
    _refused(capsys, [data, option, tmp_path / "nope" / name], "no such directory")
    _refused(capsys, [data, option, tmp_path], "is a directory")
    path, _ = _table(tmp_path, name=f"data{os.path.splitext(name)[1]}")
    _refused(capsys, [path, option, path], "would overwrite the data file")


def test_an_output_path_without_permission_is_refused(tmp_path, capsys, no_fitting):
    path, _ = _table(tmp_path)
    if getattr(os, "geteuid", lambda: None)() == 0:
        # File modes do not bind the superuser; sysfs takes no new file from anyone.
        locked = pathlib.Path("/sys/kernel")
        if not locked.is_dir():
            pytest.skip("no directory the superuser cannot write to")
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
    _refused(capsys, [path, "--json", locked / "r.json"], "cannot be written")
    assert not (locked / "r.json").exists()


def test_the_output_check_leaves_no_file_behind(tmp_path, capsys, no_fitting):
    path, _ = _table(tmp_path)
    report = tmp_path / "r.json"
    _refused(capsys, [path, "--json", report, "--n-jobs", "0"], "--n-jobs")
    _refused(capsys, [path, "--json", report, "--cv", "1"], "--cv")
    # The output is checked first; the data afterwards.
    _refused(capsys, [path, "--json", report, "--sep", ";;"], "--sep")
    assert not report.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]


def test_a_plot_format_matplotlib_cannot_draw_is_refused(tmp_path, capsys, no_fitting):
    pytest.importorskip("matplotlib")
    path, _ = _table(tmp_path)
    message = _refused(capsys, [path, "--plot", tmp_path / "out.xyz"], ".xyz")
    assert "png" in message and "pdf" in message and "svg" in message
    _refused(
        capsys,
        [path, "--plot", tmp_path / "same.png", "--json", tmp_path / "same.png"],
        "the same file",
    )


def test_duplicate_and_unnamed_columns_are_refused(tmp_path, capsys, no_fitting):
    path, _ = _table(tmp_path, header=("a", "a", "y"))
    _refused(capsys, [path], "duplicate column name(s) a (columns 1, 2)")
    path, _ = _table(tmp_path, header=("a", "", "y"))
    _refused(capsys, [path], "column(s) 2 (counting from 1)", "no name")
    path, _ = _table(tmp_path, header=("", "b", "y"))  # a file of row numbers
    _refused(capsys, [path], "column(s) 1 (counting from 1)")


def test_rows_longer_than_the_header_are_refused(tmp_path, capsys, no_fitting):
    # Every row: pandas would silently take the first field as the row labels.
    path, _ = _table(tmp_path, trailing=",7.5")
    _refused(capsys, [path], "line 2", "4 fields", "3 columns")
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[1][:-4], lines[2]]))
    _refused(capsys, [path], "line 3", "saw 4")


def test_a_file_that_is_not_utf8_is_refused(tmp_path, capsys, no_fitting):
    path = tmp_path / "latin.csv"
    path.write_bytes("caf\xe9,b,y\n1,2,3\n".encode("latin-1"))
    _refused(capsys, [path], "not UTF-8", "0xe9")


def test_a_wrong_separator_reads_one_column(tmp_path, capsys, no_fitting):
    path, _ = _table(tmp_path, sep=";")
    _refused(capsys, [path, "--sep", "tab"], "single column 'a;b;y'", "--sep")


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--n-jobs", "0"], ["--n-jobs must not be 0"]),
        (["--cv", "-3"], ["--cv must be at least 2; got -3"]),
        (["--cv", "three"], ["--cv", "invalid int value"]),
        (["--hidden", "0"], ["--hidden", "'0'"]),
        (["--hidden", "64,x"], ["--hidden", "'64,x'"]),
        (["--seed", "-1"], ["--seed"]),
        (["--n-repeats", "0"], ["--n-repeats"]),
        (["--null-repeats", "-1"], ["--null-repeats"]),
        (["--sep", ";;"], ["--sep needs one character"]),
        (["--methods", ""], ["unknown method(s) (none)"]),
        (["--task", "ranking"], ["--task", "invalid choice"]),
    ],
)
def test_bad_option_values(tmp_path, capsys, no_fitting, args, fragments):
    path, _ = _table(tmp_path)
    _refused(capsys, [path, *args], *fragments)


def test_targets_that_cannot_be_learned_or_split(tmp_path, capsys, no_fitting):
    path, _ = _table(tmp_path)
    _refused(capsys, [path, "--exclude", "y"], "--exclude names the target y")
    path.write_text("a,b,y\n1,2,\n3,4,\n")
    _refused(capsys, [path], "no row has a value of the target y")
    path.write_text("a,b,y\n1,,1.5\n,4,2.5\n2,,0.5\n,3,1.0\n")
    _refused(capsys, [path, "--drop-missing"], "every row has a missing input")
    path.write_text("a,b,y\n1,2,0.5\n3,4,1.5\n5,6,2.5\n")
    _refused(capsys, [path], "too few rows", "there are 3")


# Dialects: what a spreadsheet writes is read as meant.


@pytest.mark.parametrize(
    "dialect, args, note",
    [
        (dict(bom="\ufeff"), ["--target", "a"], None),
        (dict(sep=";", decimal=","), [], "separated by ';', decimal comma"),
        (dict(sep=";"), [], "separated by ';'"),
        (dict(sep="\t"), [], "separated by tabs"),
        (dict(sep="|"), [], "separated by '|'"),
        (dict(sep="\t", encoding="utf-16"), [], "separated by tabs"),
        (dict(sep=";", decimal=","), ["--sep", ";"], "decimal comma"),
        (dict(sep="\t"), ["--sep", "tab"], "tabs"),
        (dict(sep="\t"), ["--sep", "\\t"], "tabs"),
        (dict(header=("weight,kg", "size,cm", "y"), sep=";", decimal=","), [], ";"),
        (dict(trailing=","), [], None),
    ],
)
def test_dialects_are_read_as_meant(tmp_path, capsys, dialect, args, note):
    path, rows = _table(tmp_path, **dialect)
    target = args[1] if args[:1] == ["--target"] else None
    sep = _cli._separator(args[1]) if args[:1] == ["--sep"] else None
    X, y, notes, name = _cli.read_csv(path, target, sep=sep)
    inputs = [0, 1, 2] if name == "y" else [1, 2, 0]
    np.testing.assert_allclose(X.to_numpy(dtype=float), rows[:, inputs[:2]])
    np.testing.assert_allclose(y, rows[:, inputs[2]])
    if note is None:
        assert notes == []
    else:
        assert len(notes) == 1 and note in notes[0], notes
    status = _cli.main(
        [str(path), *args, "--methods", "gradient", "--hidden", "5", "--n-repeats", "2"]
    )
    out, _ = capsys.readouterr()
    assert status == 0
    assert "60 rows, 2 inputs (2 numeric" in out
    assert sorted(r[1] for r in rankings(out, "gradient", 2)) == sorted(X.columns)
    if note is not None:
        assert out.startswith(f"note: {notes[0]}\n")


def test_an_unnamed_empty_column_is_left_out_with_a_note(tmp_path):
    path, rows = _table(tmp_path, header=("a", "b", "y", ""), trailing=",")
    X, y, notes, name = _cli.read_csv(path, None)
    assert notes == ["column 4 left out: no name and no values"]
    assert name == "y" and list(X.columns) == ["a", "b"]
    np.testing.assert_allclose(y, rows[:, 2])


def test_a_comma_file_is_read_as_before(tmp_path):
    path, rows = _table(tmp_path)
    X, y, notes, _ = _cli.read_csv(path, None)
    np.testing.assert_allclose(X.to_numpy(), rows[:, :2])
    assert notes == []


# --- The answer: methods, units, summary, progress, outputs, report -----------------


def _friedman_csv(tmp_path, n=200, sort_by=None, two_outputs=False):
    X, y = make_friedman1(n_samples=n, n_features=6, random_state=0)
    names = [f"in_{i}" for i in range(6)]
    columns = {name: X[:, i] for i, name in enumerate(names)}
    columns["response"] = y
    if two_outputs:
        columns["second"] = 3 * X[:, 5] + 0.1 * np.random.RandomState(1).normal(size=n)
    order = np.argsort(columns[sort_by]) if sort_by else np.arange(n)
    header = list(columns)
    lines = [",".join(header)]
    lines += [",".join(f"{columns[c][i]:.5f}" for c in header) for i in order]
    path = tmp_path / "friedman.csv"
    path.write_text("\n".join(lines) + "\n")
    return path, names


def test_default_answer_names_methods_units_score_and_top_inputs(tmp_path, capsys):
    path, names = _friedman_csv(tmp_path)
    status = _cli.main([str(path), "--target", "response", "--hidden", "20"])
    out, _ = capsys.readouterr()
    assert status == 0
    lines = out.splitlines()
    # The held-out score against a constant's, and which methods and why.
    assert "held-out (5 shuffled folds)" in lines[1]
    assert "a constant prediction 0.000" in lines[1]
    assert lines[2].startswith("methods: gradient: ") and "permutation" in lines[2]
    # Every table says what its numbers measure.
    assert "gradient: mean |change of the predicted value (target units)|" in out
    assert "permutation: drop in held-out R^2 when the column is shuffled" in out
    assert [m for m in ("weights", "garson", "probe") if f"\n{m}: " in out] == []
    # The summary names the top inputs of held-out permutation: friedman's
    # strongest inputs are 3, 0 and 1.
    summary = out.split("\nsummary\n")[1].replace("\n", " ")
    ranked = rankings(out, "permutation", len(names))
    top = [name for _, name, _ in ranked[:3]]
    assert set(top) <= {"in_0", "in_1", "in_3", "in_4"}
    assert f"{top[0]}, {top[1]} and {top[2]} matter most" in summary
    assert "The network is worth explaining" in summary


def test_progress_covers_the_whole_run_with_an_estimate(tmp_path, capsys, monkeypatch):
    path, _ = _friedman_csv(tmp_path, n=120)
    monkeypatch.setattr(_cli, "LONG_RUN", -1)  # every run is long: the hint shows
    status = _cli.main(
        [str(path), "--hidden", "5", "--n-repeats", "2", "--cv", "3", "--progress"]
    )
    _, err = capsys.readouterr()
    assert status == 0
    stages = [line for line in err.splitlines() if line.startswith("sknnimp: ")]
    assert stages[0] == "sknnimp: fitting the network on 120 rows ..."
    assert any(
        line.endswith("s left (estimated from the first fit)") for line in stages
    )
    assert any("hint:" in line and "--n-jobs -1" in line for line in stages)
    assert any(line.startswith("sknnimp: overfitting check") for line in stages)
    assert (
        stages[-1].startswith("sknnimp: overfitting check") and "done in" in stages[-1]
    )


def test_several_targets_get_a_table_per_output(tmp_path, capsys):
    path, names = _friedman_csv(tmp_path, n=150, two_outputs=True)
    args = [str(path), "--target", "response,second", "--hidden", "10"]
    status = _cli.main([*args, "--n-repeats", "2", "--cv", "3"])
    out, _ = capsys.readouterr()
    assert status == 0
    assert "targets response, second" in out.splitlines()[0]
    for method in ("gradient", "permutation"):
        for output in ("response", "second"):
            assert f"\n{method}, output {output}: " in out
    second = out.split("\npermutation, output second: ")[1]
    rows = [line.split() for line in second.splitlines()[2:4]]
    assert rows[0][1] == "in_5"  # the second output is 3 * in_5
    status = _cli.main([*args, "--n-repeats", "2", "--cv", "3", "--output", "second"])
    out, _ = capsys.readouterr()
    assert status == 0
    assert "output second" in out and "output response" not in out


def test_output_must_name_one_of_several_targets(tmp_path, capsys, no_fitting):
    path, _ = _friedman_csv(tmp_path, n=60, two_outputs=True)
    _refused(
        capsys,
        [path, "--target", "response,second", "--output", "third"],
        "--output third",
        "response, second",
    )
    _refused(capsys, [path, "--output", "second"], "single target")


def test_overfitting_check_on_a_file_sorted_by_an_informative_input(tmp_path, capsys):
    """Sorted by in_3 (the strongest input): unshuffled folds would make every
    held-out fold an extrapolation in in_3; the check must not flag it."""
    path, names = _friedman_csv(tmp_path, n=240, sort_by="in_3")
    status = _cli.main([str(path), "--target", "response", "--hidden", "20"])
    out, _ = capsys.readouterr()
    assert status == 0
    check = out.split("overfitting check")[1].split("\nsummary\n")[0]
    assert "in_3:" not in check


def test_plot_uses_the_column_names(tmp_path, capsys, monkeypatch):
    import matplotlib.figure

    saved = []
    original = matplotlib.figure.Figure.savefig

    def keep(self, *args, **kwargs):
        saved.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", keep)
    path, names = _friedman_csv(tmp_path, n=100)
    picture = tmp_path / "plot.png"
    status = _cli.main(
        [str(path), "--hidden", "5", "--cv", "3", "--plot", str(picture)]
    )
    capsys.readouterr()
    assert status == 0 and picture.stat().st_size > 10_000
    labels = {
        label.get_text() for ax in saved[0].axes for label in ax.get_yticklabels()
    }
    assert set(names) <= labels


def test_report_is_written_and_reads_in_a_browser(tmp_path, capsys):
    import shutil

    path, names = _friedman_csv(tmp_path, n=100)
    report = tmp_path / "report.html"
    status = _cli.main(
        [
            str(path),
            "--hidden",
            "5",
            "--cv",
            "3",
            "--n-repeats",
            "2",
            "--report",
            str(report),
        ]
    )
    capsys.readouterr()
    assert status == 0
    page = report.read_text()
    for section in (
        "summary",
        "data",
        "model",
        "rankings",
        "per-row",
        "agreement",
        "overfitting",
        "reproduce",
    ):
        assert f'<section id="{section}"' in page
    assert page.count("data:image/png;base64,") >= 2  # importances, beeswarm
    assert "--report" in page  # the command to reproduce it
    browser = next(
        (
            shutil.which(n)
            for n in ("chromium", "chromium-browser", "google-chrome")
            if shutil.which(n)
        ),
        None,
    )
    if browser is None:
        pytest.skip("no chromium on this machine (Debian: apt-get install chromium)")
    done = subprocess.run(
        [
            browser,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            report.as_uri(),
        ],
        capture_output=True,
        timeout=180,
        check=False,
    )
    dom = done.stdout.decode()
    assert done.returncode == 0
    for heading in (
        "Summary",
        "Which inputs matter",
        "Per-row view",
        "Overfitting check",
        "Reproduce",
    ):
        assert f">{heading}</h2>" in dom
    assert all(name in dom for name in names)


def test_summary_says_when_the_network_overfits():
    from sklearn.utils import Bunch

    from sknnimp._answer import summary_paragraphs

    names = ["a", "b", "c", "d"]
    result = Bunch(importances_mean=np.array([0.3, 0.2, 0.1, 0.0]))
    common = dict(score_name="R^2", held_out=0.5, constant=0.0, cross_fitted=True)
    few = summary_paragraphs(
        names,
        {"permutation": result},
        overfitting={"flagged": np.array([False, False, True, False])},
        **common,
    )
    assert few[-1].startswith("c looks important on the training rows")
    most = summary_paragraphs(
        names,
        {"permutation": result},
        overfitting={"flagged": np.array([True, True, True, False])},
        **common,
    )
    assert most[-1].startswith("3 of 4 inputs look important")
    assert "the network overfits" in most[-1]
    assert "a, b and c matter most" in most[1]
