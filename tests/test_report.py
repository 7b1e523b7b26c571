"""The one-page report: sections, escaping, embedded pictures, numbers with their units,
Markdown, and the page as headless Chromium renders it."""

import base64
import copy
import io
import math
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from sknnimp._report import SECTIONS, report_format, write_report

pytest.importorskip("matplotlib")
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.image import imread  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ODD_NAME = "flipper <b>& tail"
FEATURES = ["bill_length", "bill_depth", ODD_NAME, "body_mass", "island_Dream", "sex"]


def _png(kind):
    """A small picture as PNG bytes (matplotlib's Agg canvas)."""
    figure = Figure(figsize=(6, 2.6), layout="constrained")
    ax = figure.subplots()
    if kind == "bars":
        ax.barh(FEATURES[::-1], [0.02, 0.05, 0.08, 0.11, 0.19, 0.31])
        ax.set_xlabel("drop in held-out accuracy")
    else:
        ax.scatter(range(40), [math.sin(i / 4) for i in range(40)], s=8)
        ax.set_xlabel("Shapley value")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def summary():
    return {
        "title": "Which inputs matter: penguins.csv, target species",
        "command": "sknnimp penguins.csv --target species --report report.html",
        "data": {
            "source": "penguins.csv, target species",
            "n_rows": 333,
            "n_inputs": 6,
            "inputs": "4 numeric (imputed, standardized), 2 categorical (one-hot)",
            "task": "classification",
            "notes": ["11 rows with a missing target left out", "column id left out"],
        },
        "model": {
            "network": "MLPClassifier(hidden_layer_sizes=(32,))",
            "score_name": "accuracy",
            "train": 0.99401,
            "held_out": 0.97297,
            "constant": 0.43844,
            "folds": "5 shuffled folds",
            "worth_explaining": True,
        },
        "summary": [
            "Body mass and the bill's length matter most; sex matters little.",
            "The two methods agree on the first three inputs.",
        ],
        "rankings": [
            {
                "method": "permutation",
                "title": "Held-out permutation importance",
                "unit": "drop in held-out accuracy when the column is shuffled",
                "features": FEATURES,
                "mean": [0.123456, 0.0512, 0.0871, 0.3107, 0.0189, float("nan")],
                "ci": [
                    [0.1011, 0.1456],
                    [0.03, 0.07],
                    [0.06, 0.11],
                    [0.28, 0.34],
                    [0.0, 0.04],
                    None,
                ],
                "pvalues": [0.00099, 0.012, 0.0021, 0.00099, 0.21, None],
                "ci_label": "95% interval",
            },
            {
                "method": "gradient",
                "title": "Gradient importance",
                "unit": "share of the total mean |gradient|",
                "features": FEATURES,
                "mean": [0.21, 0.13, 0.17, 0.35, 0.09, 0.05],
                "ci": None,
                "pvalues": None,
            },
        ],
        "figures": {
            "importances": _png("bars"),
            "beeswarm": _png("scatter"),
            "agreement": _png("bars"),
        },
        "figure_captions": {"importances": "Importances of the two methods"},
        "agreement": {
            "methods": ["permutation", "gradient"],
            "matrix": [[1.0, 0.8286], [0.8286, 1.0]],
        },
        "groups": [["bill_length", ODD_NAME]],
        "overfitting": {
            "features": FEATURES,
            "train": [0.15, 0.06, 0.09, 0.33, 0.08, 0.01],
            "held_out": [0.12, 0.05, 0.087, 0.31, 0.019, 0.0],
            "flagged": [False, False, False, False, True, False],
        },
        "per_row": {
            "caption": "Shapley values of every row: one dot per row and input.",
            "figure": "beeswarm",
        },
    }


#: Elements whose text is read as separate words (cells, items, paragraphs).
SEPARATED = {"td", "th", "dt", "dd", "li", "p", "caption", "span", "figcaption"}


class _Page(HTMLParser):
    """Section ids, their headings and text, elements seen, and the images' sources."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.sections, self.headings, self.text = [], {}, {}
        self.tags, self.images, self.alts = set(), [], []
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        if tag in SEPARATED and self.sections:
            self.text[self.sections[-1]] += " "
        if tag == "section":
            self.sections.append(attrs["id"])
            self.text[attrs["id"]] = ""
        elif tag == "h2":
            self._in_h2 = True
        elif tag == "img":
            self.images.append(attrs["src"])
            self.alts.append(attrs.get("alt"))

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data):
        if not self.sections:
            return
        if self._in_h2:
            self.headings[self.sections[-1]] = data.strip()
        self.text[self.sections[-1]] += data


def _read(page):
    parser = _Page()
    parser.feed(page)
    return parser


def _words(text):
    return " ".join(text.split())


def _html(tmp_path, summary, name="report.html"):
    path = tmp_path / name
    write_report(path, summary)
    return path.read_text(encoding="utf-8")


def _check_page(page, summary):
    """What the page must show, whether read from the file or from the browser."""
    assert page.sections == [key for key, _ in SECTIONS]
    assert page.headings == dict(SECTIONS)
    assert "b" not in page.tags  # the odd name stayed text
    text = {key: _words(value) for key, value in page.text.items()}
    assert "Body mass and the bill's length matter most" in text["summary"]
    assert "333" in text["data"] and "column id left out" in text["data"]
    assert "0.973 (5 shuffled folds)" in text["model"] or "0.973" in text["model"]
    assert "0.4384" in text["model"]
    rankings = text["rankings"]
    for ranking in summary["rankings"]:
        assert ranking["title"] in rankings and ranking["unit"] in rankings
    assert ODD_NAME in rankings
    # 4 significant digits, sorted by mean: body_mass (0.3107) is ranked first.
    assert "1 body_mass 0.3107 [0.28, 0.34] 0.00099" in rankings
    assert "2 bill_length 0.1235 [0.1011, 0.1456] 0.00099" in rankings
    assert "6 sex – – –" in rankings  # NaN and None, last
    assert "Shapley values of every row" in text["per-row"]
    assert "0.83" in text["agreement"]
    assert f"bill_length, {ODD_NAME}" in text["groups"]
    assert "island_Dream 0.08 0.019 sensitive, not important" in text["overfitting"]
    assert summary["command"] in text["reproduce"]


def test_html_shows_every_section_with_escaped_names(tmp_path, summary):
    html = _html(tmp_path, summary)
    assert html.startswith("<!DOCTYPE html>")
    assert "flipper &lt;b&gt;&amp; tail" in html and ODD_NAME not in html
    _check_page(_read(html), summary)


def test_html_is_self_contained(tmp_path, summary):
    html = _html(tmp_path, summary)
    assert "<script" not in html
    assert not re.search(r"""(src|href)=["']?(https?:|//|file:)""", html)
    assert "http" not in re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)


def test_images_are_embedded_with_alt_text(tmp_path, summary):
    page = _read(_html(tmp_path, summary))
    assert len(page.images) == len(summary["figures"])
    pictures = set(summary["figures"].values())
    for source, alt in zip(page.images, page.alts):
        prefix = "data:image/png;base64,"
        assert source.startswith(prefix)
        png = base64.b64decode(source[len(prefix) :], validate=True)
        assert png.startswith(PNG_SIGNATURE) and png in pictures
        assert alt
    assert "Importances of the two methods" in page.alts
    # Each picture in its place: the Shapley beeswarm in the per-row view, the
    # agreement next to the agreement table, the rest after the rankings.
    html = _html(tmp_path, summary)
    places = [("rankings", "importances"), ("per-row", "beeswarm")]
    for key, name in places + [("agreement", "agreement")]:
        section = html.split(f'<section id="{key}">')[1].split("</section>")[0]
        encoded = base64.b64encode(summary["figures"][name]).decode()
        assert encoded in section


def test_not_worth_explaining_is_a_warning(tmp_path, summary):
    poor = copy.deepcopy(summary)
    poor["model"].update(worth_explaining=False, held_out=0.44, train=0.62)
    html = _html(tmp_path, poor)
    assert '<p class="warning"' in html
    model = _words(_read(html).text["model"])
    assert "Not worth explaining." in model and "0.44" in model and "0.4384" in model
    assert 'class="warning"' not in _html(tmp_path, summary)


def test_parts_not_measured_are_said_so(tmp_path, summary):
    bare = copy.deepcopy(summary)
    bare.update(
        agreement=None,
        groups=None,
        overfitting=None,
        per_row=None,
        figures={},
        rankings=bare["rankings"][1:],
    )
    bare["model"]["held_out"] = float("nan")
    page = _read(_html(tmp_path, bare))
    assert page.sections == [key for key, _ in SECTIONS]
    assert not page.images
    text = {key: _words(value) for key, value in page.text.items()}
    assert "Not computed" in text["per-row"]
    assert "nothing to compare" in text["agreement"]
    assert "on its own" in text["groups"]
    assert "Not run" in text["overfitting"]
    assert "Held-out accuracy – (5 shuffled folds)" in text["model"]
    assert "Interval" not in text["rankings"] and "p-value" not in text["rankings"]


def test_markdown_has_the_same_sections_and_tables(tmp_path, summary):
    path = tmp_path / "report.md"
    write_report(path, summary)
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == f"# {summary['title']}"
    headings = [line[3:] for line in lines if line.startswith("## ")]
    assert headings == [heading for _, heading in SECTIONS]
    assert "| Rank | Input | Importance | 95% interval | p\\-value |" not in text
    assert "| Rank | Input | Importance | 95% interval | p-value |" in text
    assert "| ---: | --- | ---: | ---: | ---: |" in text
    assert "| 1 | body\\_mass | 0.3107 | [0.28, 0.34] | 0.00099 |" in text
    assert "flipper \\<b\\>\\& tail" in text and ODD_NAME not in text
    assert "drop in held-out accuracy when the column is shuffled" in text
    assert "> **Not worth explaining.**" not in text
    assert f"```sh\n{summary['command']}\n```" in text
    images = re.findall(r"!\[[^\]]*\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", text)
    assert len(images) == len(summary["figures"])
    assert all(base64.b64decode(data).startswith(PNG_SIGNATURE) for data in images)
    # Every table row has as many cells as its header.
    for block in text.split("\n\n"):
        rows = [line for line in block.splitlines() if line.startswith("| ")]
        if rows:
            widths = {len(re.findall(r"(?<!\\)\|", row)) for row in rows}
            assert len(widths) == 1, block


def test_format_follows_the_extension(tmp_path, summary):
    assert report_format("a.HTM") == "html" and report_format("a.md") == "markdown"
    with pytest.raises(
        ValueError, match=r"HTML \(\.html, \.htm\) and Markdown \(\.md\)"
    ):
        write_report(tmp_path / "report.pdf", summary)
    assert not list(tmp_path.iterdir())


def test_written_in_utf8_replacing_the_old_file(tmp_path, summary):
    path = tmp_path / "report.htm"
    path.write_text("old", encoding="utf-8")
    write_report(path, summary)
    assert "accuracy" in path.read_bytes().decode("utf-8")
    assert os.listdir(tmp_path) == ["report.htm"]  # no temporary file left
    changed = copy.deepcopy(summary)
    changed["model"]["score_name"] = "R²"
    write_report(path, changed)
    assert "Held-out R²" in path.read_bytes().decode("utf-8")


# --- In a browser -------------------------------------------------------------------


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no chromium on this machine (Debian: apt-get install chromium)")


def _run_chromium(tmp_path, *args):
    command = [
        _chromium(),
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done.stdout.decode("utf-8")


def test_chromium_renders_the_report(tmp_path, summary):
    path = tmp_path / "report.html"
    write_report(path, summary)
    url = path.as_uri()

    # The text read back from the page as the browser built it.
    _check_page(_read(_run_chromium(tmp_path, "--dump-dom", url)), summary)

    # The page drawn: a screenshot with pictures and text on it, not a blank page.
    screenshot = tmp_path / "report.png"
    _run_chromium(
        tmp_path, "--window-size=1000,2600", f"--screenshot={screenshot}", url
    )
    png = screenshot.read_bytes()
    assert png.startswith(PNG_SIGNATURE) and len(png) > 50_000
    pixels = imread(screenshot)[..., :3]
    assert (pixels.min(axis=2) < 0.9).mean() > 0.03  # ink on at least 3% of it

    # Printed: one or two A4 pages... at most three, fonts differ between machines.
    pdf = tmp_path / "report.pdf"
    _run_chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", url)
    content = pdf.read_bytes()
    assert content.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", content))
    assert 1 <= pages <= 3
