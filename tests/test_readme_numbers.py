"""The numbers the README quotes are what a fresh run gives, within a tolerance.

The comparison section's numbers come from ``docs/make_figures.py`` (which draws its
figure and prints them); the Tour's and the body-mass example's from running those
README blocks. Each claim is found in the README's text by a pattern: rewording a
claim means updating its pattern here, and a run that gives other numbers fails.
"""

import contextlib
import importlib.util
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)
# Prose is wrapped at any space: patterns match any run of white space there.
TEXT = re.sub(r"\s+", " ", README)

pytest.importorskip("pandas")
pytest.importorskip("matplotlib")


def _claims(pattern):
    """The numbers of the one place in the README that ``pattern`` matches."""
    found = re.findall(pattern.replace(" ", r"\s+"), TEXT)
    assert len(found) == 1, f"{pattern!r} matches {len(found)} times in README.md"
    values = found[0] if isinstance(found[0], tuple) else (found[0],)
    return [float(value) for value in values]


def _close(quoted, actual, *, absolute=0.05, relative=0.0):
    tolerance = max(absolute, relative * abs(actual))
    assert abs(quoted - actual) <= tolerance, (
        f"README.md says {quoted}, a fresh run gives {actual:.4g}"
    )


def _block(marker):
    """Run the README block holding ``marker``; its variables."""
    (block,) = [block for block in BLOCKS if marker in block]
    namespace = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(block, "README.md", "exec"), namespace)
    return namespace


def _make_figures():
    path = ROOT / "docs" / "make_figures.py"
    spec = importlib.util.spec_from_file_location("make_figures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def make_figures():
    return _make_figures()


@pytest.fixture(scope="module")
def comparison_numbers(make_figures):
    return make_figures.comparison_numbers(make_figures.diabetes_comparison())


def test_readme_comparison_block_is_the_one_make_figures_runs(make_figures):
    namespace = _block("# the forest has no weights: permutation only")
    readme_models = namespace["models"]
    script_models = make_figures.diabetes_models()
    assert list(readme_models) == list(script_models)
    for name, model in readme_models.items():
        assert repr(model.get_params()) == repr(script_models[name].get_params())


def test_comparison_agreement_numbers(comparison_numbers):
    found = comparison_numbers
    low, high, gradient_permutation = _claims(
        r"network's four methods agree with each other at Spearman ([\d.]+) to "
        r"([\d.]+) \(`gradient` and `permutation` at ([\d.]+)\)"
    )
    _close(low, found["network_low"])
    _close(high, found["network_high"])
    _close(gradient_permutation, found["gradient_permutation"])
    low, high = _claims(r"agrees with them at only ([\d.]+) to ([\d.]+)")
    _close(low, found["forest_low"])
    _close(high, found["forest_high"])


def test_comparison_rankings_and_flags(comparison_numbers):
    found = comparison_numbers
    assert "Every method puts `bmi` and `s5` among its first three inputs" in TEXT
    for top in found["top_three"].values():
        assert {"bmi", "s5"} <= set(top)
    assert "`garson`, which reads only the first layer's weights, puts `sex`" in TEXT
    assert found["top_three"][("mlp", "garson")] == ["bmi", "sex", "s5"]
    flagged = ", ".join(f"`{name}`" for name in found["flagged"]["mlp"])
    assert f"network is flagged on four minor inputs ({flagged})" in TEXT
    assert len(found["flagged"]["mlp"]) == 4
    assert "the forest on 8 of the 10" in TEXT
    assert len(found["flagged"]["forest"]) == 8
    assert "bmi" not in found["flagged"]["forest"]
    assert "s5" not in found["flagged"]["forest"]


def test_tour_numbers():
    namespace = _block("load_penguins()  # 344")
    selector, columns = namespace["selector"], list(namespace["X"].columns)
    importance = dict(zip(columns, selector.feature_importances_))
    (accuracy,) = _claims(r"# ([\d.]+): worth explaining")
    _close(accuracy, selector.baseline_score_, absolute=0.01)
    length, depth = _claims(r"bill's length \(([\d.]+)\) and depth \(([\d.]+)\)")
    _close(length, importance["bill_length_mm"], absolute=0.01, relative=0.1)
    _close(depth, importance["bill_depth_mm"], absolute=0.01, relative=0.1)
    low, high = _claims(
        r"island, body mass, flipper length and sex \(([\d.]+) to ([\d.]+)\)"
    )
    others = [importance[name] for name in ("island", "body_mass_g")]
    others += [importance[name] for name in ("flipper_length_mm", "sex")]
    _close(low, min(others), absolute=0.005)
    _close(high, max(others), absolute=0.005)
    (year,) = _claims(r"`year` \(([\d.]+)\) none")
    _close(year, importance["year"], absolute=0.005)
    assert "Only the bill's length reaches the mean importance" in TEXT
    assert list(selector.get_feature_names_out()) == ["bill_length_mm"]


def test_body_mass_numbers():
    namespace = _block('sensitivity = nn_importance(model, X, method="gradient")')
    columns = list(namespace["X"].columns)
    grams = dict(zip(columns, namespace["sensitivity"].importances_mean))
    held_out = namespace["held_out"]
    drop = dict(zip(columns, held_out.importances_mean))
    (r2,) = _claims(r"predicts body mass with a held-out R² of ([\d.]+)\.")
    _close(r2, held_out.baseline_score, absolute=0.01)
    flipper_g, flipper, species_g, species = _claims(
        r"Flipper length \(([\d.]+) g, ([\d.]+)\) and species \(([\d.]+) g, "
        r"([\d.]+)\) matter most both ways"
    )
    _close(flipper_g, grams["flipper_length_mm"], relative=0.05)
    _close(flipper, drop["flipper_length_mm"], relative=0.05)
    _close(species_g, grams["species"], relative=0.05)
    _close(species, drop["species"], relative=0.05)
    for ranking in (grams, drop):
        assert sorted(ranking, key=ranking.get)[-2:] in (
            ["species", "flipper_length_mm"],
            ["flipper_length_mm", "species"],
        )
    (year_g,) = _claims(
        r"moves with it \(([\d.]+) g per standard deviation, as much as with sex\)"
    )
    _close(year_g, grams["year"], relative=0.05)
    assert abs(grams["year"] - grams["sex"]) <= 0.1 * grams["sex"]
    (year,) = _claims(r"costs almost nothing \(([\d.]+)\)")
    _close(year, drop["year"], absolute=0.005)


def test_command_line_numbers(tmp_path, capsys):
    """The command-line section's quoted run on the penguins' CSV."""
    from palmerpenguins import load_penguins

    from sknnimp._cli import main

    load_penguins().to_csv(tmp_path / "penguins.csv", index=False)
    assert main([str(tmp_path / "penguins.csv"), "--target", "body_mass_g"]) == 0
    out = capsys.readouterr().out
    found = re.search(
        r"training data ([\d.]+), held-out \(5 shuffled folds\) ([\d.]+)", out
    )
    train, held_out = _claims(
        r"training data ([\d.]+), held-out \(5 shuffled folds\) ([\d.]+)"
    )
    _close(train, float(found.group(1)), absolute=0.01)
    _close(held_out, float(found.group(2)), absolute=0.01)
    start = README.index("note: 2 row(s) without a value of body_mass_g")
    quoted_run = README[start : README.index("```", start)]
    for method in ("gradient", "permutation"):
        quoted_rows = _table_rows(quoted_run, method)
        rows = _table_rows(out, method)
        assert quoted_rows, method
        for rank, (name, value) in quoted_rows.items():
            assert rows[rank][0] == name, (method, rank)
            _close(value, rows[rank][1], absolute=0.0, relative=0.05)


def _table_rows(text, method):
    """``{rank: (input, importance)}`` of the rows of ``method``'s table shown."""
    lines = text.split(f"\n{method}: ")[1].splitlines()[2:]
    rows = {}
    for line in lines:
        parts = line.split()
        if not parts or not parts[0].isdigit():
            if parts[:1] == ["..."]:
                continue
            break
        rows[int(parts[0])] = (parts[1], float(parts[2]))
    return rows
