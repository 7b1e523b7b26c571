"""A one-page report of which inputs matter: one self-contained HTML or Markdown file.

The command line gathers what it measured into a plain dict, the *summary* (its keys are
listed in :func:`write_report`); this module only lays it out. The page is built once as
a list of sections made of a few kinds of blocks (paragraphs, facts, tables, figures,
code), and each block is written as HTML or as Markdown, so both formats say the same
thing in the same order.

The HTML file needs nothing but itself: the style sheet is inline, the pictures are
embedded as ``data:`` URIs, and there is no script. It is laid out to print on one or
two A4 pages.
"""

import base64
import html
import math
import os
import re
from typing import NamedTuple

from ._compare import OVERFITTING_Z

#: File extensions and the format each one is written in.
FORMATS = {".html": "html", ".htm": "html", ".md": "markdown"}

#: ``(id, heading)`` of the report's sections, in page order.
SECTIONS = (
    ("summary", "Summary"),
    ("data", "Data"),
    ("model", "Model"),
    ("rankings", "Which inputs matter"),
    ("per-row", "Per-row view"),
    ("agreement", "Agreement between methods"),
    ("groups", "Groups"),
    ("overfitting", "Overfitting check"),
    ("reproduce", "Reproduce"),
)

MISSING = "–"


# --- What the page says -------------------------------------------------------------


class Paragraph(NamedTuple):
    text: str
    warning: str = ""  # the heading of a warning box, or "" for a plain paragraph


class Facts(NamedTuple):
    """Label/value pairs (the data and the model)."""

    pairs: list


class Items(NamedTuple):
    """A bullet list."""

    items: list


class Table(NamedTuple):
    title: str
    unit: str
    header: list
    rows: list  # of lists of str
    numeric: list  # per column: right-aligned
    row_headers: bool = False  # the first cell of each row names it
    bars: list = None  # per row: a fraction in [0, 1] drawn after the row (HTML)
    marked: list = None  # per row: highlighted


class Figure(NamedTuple):
    png: bytes
    alt: str
    caption: str


class Code(NamedTuple):
    text: str


class Row(NamedTuple):
    """Tables and figures side by side where the page is wide enough."""

    boxes: list


def _finite(value):
    """``value`` as a float, or None when it is None, NaN or infinite."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def number(value, spec=".4g"):
    """``value`` formatted with ``spec``; ``"–"`` for None and NaN.

    >>> number(0.123456), number(-0.0), number(None), number(float("nan"))
    ('0.1235', '0', '–', '–')
    """
    if value is not None and math.isinf(float(value)):
        return "∞" if float(value) > 0 else "-∞"
    value = _finite(value)
    if value is None:
        return MISSING
    return format(value + 0.0, spec)  # + 0.0: no "-0"


def _interval(pair):
    if pair is None:
        return MISSING
    low, high = pair
    if number(low) == MISSING and number(high) == MISSING:
        return MISSING
    return f"[{number(low)}, {number(high)}]"


def _sort_key(value):
    """Descending order with missing values last."""
    if value is None or math.isnan(float(value)):
        return (1, 0.0)
    return (0, -float(value))


def _text(value):
    return MISSING if value is None else str(value)


def _summary_section(summary):
    paragraphs = [Paragraph(str(text)) for text in summary.get("summary") or []]
    return paragraphs or [Paragraph("No summary was written for this run.")]


def _data_section(summary):
    data = summary["data"]
    n_rows = data.get("n_rows")
    pairs = [
        ("Source", _text(data.get("source"))),
        ("Rows", MISSING if n_rows is None else f"{int(n_rows):,}"),
        ("Inputs", f"{_text(data.get('n_inputs'))}: {_text(data.get('inputs'))}"),
        ("Task", _text(data.get("task"))),
    ]
    blocks = [Facts(pairs)]
    notes = [str(note) for note in data.get("notes") or []]
    if notes:
        blocks += [Paragraph("Left out:"), Items(notes)]
    return blocks


def _model_section(summary):
    model = summary["model"]
    score = _text(model.get("score_name"))
    capitalized = score[:1].upper() + score[1:]
    held_out, constant = number(model.get("held_out")), number(model.get("constant"))
    pairs = [
        ("Network", _text(model.get("network"))),
        (f"Held-out {score}", f"{held_out} ({_text(model.get('folds'))})"),
        (f"{capitalized} on the training rows", number(model.get("train"))),
        (f"{capitalized} of a constant prediction", constant),
    ]
    if model.get("worth_explaining"):
        verdict = Paragraph(
            f"Held out, the network scores {held_out} against {constant} for a "
            "constant prediction: it learned something worth explaining."
        )
    else:
        verdict = Paragraph(
            f"Held out, the network scores {held_out}, not clearly better than a "
            f"constant prediction ({constant}). It has not learned how the inputs "
            "relate to the target: read the importances below as a description of "
            "this model only, not of the data.",
            warning="Not worth explaining",
        )
    return [Facts(pairs), verdict]


def _ranking_table(ranking):
    features = [str(name) for name in ranking["features"]]
    mean = list(ranking["mean"])
    ci, pvalues = ranking.get("ci"), ranking.get("pvalues")
    order = sorted(range(len(features)), key=lambda i: _sort_key(mean[i]))
    header = ["Rank", "Input", "Importance"]
    numeric = [True, False, True]
    if ci is not None:
        header.append(ranking.get("ci_label", "Interval"))
        numeric.append(True)
    if pvalues is not None:
        header.append("p-value")
        numeric.append(True)
    rows = []
    for rank, i in enumerate(order, start=1):
        row = [str(rank), features[i], number(mean[i])]
        if ci is not None:
            row.append(_interval(ci[i]))
        if pvalues is not None:
            row.append(number(pvalues[i], ".2g"))
        rows.append(row)
    finite = [_finite(m) for m in mean]
    largest = max([m for m in finite if m is not None and m > 0], default=0.0)
    bars = [
        0.0 if not largest or finite[i] is None else max(finite[i] / largest, 0.0)
        for i in order
    ]
    title = _text(ranking.get("title") or ranking.get("method"))
    return Table(title, _text(ranking.get("unit")), header, rows, numeric, bars=bars)


def _rankings_section(summary):
    """The rankings, then the figures that have no other place."""
    tables = [_ranking_table(ranking) for ranking in summary.get("rankings") or []]
    if tables:
        blocks = [
            Paragraph(
                "Each table ranks the inputs by one method, most important first; "
                "its caption says what the numbers measure."
            ),
            Row(tables),
        ]
    else:
        blocks = [Paragraph("No importance method was run.")]
    placed = {_per_row_figure_name(summary), "agreement"}
    names = [name for name in summary.get("figures") or {} if name not in placed]
    figures = [_figure(summary, name) for name in names]
    figures = [figure for figure in figures if figure is not None]
    if figures:
        blocks.append(Row(figures))
    return blocks


def _figure(summary, name):
    """The figure called ``name`` as a block, or None when there is none."""
    png = (summary.get("figures") or {}).get(name)
    if png is None:
        return None
    caption = (summary.get("figure_captions") or {}).get(name, "")
    alt = caption or f"Figure: {name}"
    return Figure(bytes(png), alt, caption)


def _per_row_figure_name(summary):
    per_row = summary.get("per_row")
    return None if per_row is None else per_row.get("figure")


def _per_row_section(summary):
    per_row = summary.get("per_row")
    if per_row is None:
        return [Paragraph("Not computed in this run.")]
    blocks = [Paragraph(_text(per_row.get("caption")))]
    figure = _figure(summary, per_row.get("figure"))
    if figure is not None:
        blocks.append(figure._replace(caption=""))
    return blocks


def _agreement_section(summary):
    agreement = summary.get("agreement")
    figure = _figure(summary, "agreement")
    if agreement is None or len(agreement["methods"]) < 2:
        blocks = [Paragraph("Only one method was run: there is nothing to compare.")]
        return blocks + ([figure] if figure is not None else [])
    methods = [str(method) for method in agreement["methods"]]
    rows = [
        [method, *(number(value, ".2f") for value in row)]
        for method, row in zip(methods, agreement["matrix"])
    ]
    table = Table(
        "Spearman rank correlation",
        "between the rankings of two methods",
        ["", *methods],
        rows,
        [False, *(True for _ in methods)],
        row_headers=True,
    )
    return [
        Paragraph(
            "How alike the methods rank the inputs (1: the same order, 0: unrelated, "
            "-1: reversed). Methods measure different things, so they can disagree; "
            "an input ranked high by all of them is the safest bet."
        ),
        Row([table] if figure is None else [table, figure]),
    ]


def _groups_section(summary):
    groups = summary.get("groups")
    if not groups:
        return [Paragraph("Every input was measured on its own (no groups).")]
    return [
        Paragraph(
            "Inputs measured together: each group is shuffled, dropped or filled as "
            "one, so its importance is what its inputs are worth together (inputs "
            "that carry the same information stand in for each other when measured "
            "alone)."
        ),
        Items([", ".join(str(name) for name in group) for group in groups]),
    ]


def _overfitting_section(summary):
    found = summary.get("overfitting")
    if found is None:
        return [Paragraph("Not run.")]
    score = _text(summary["model"].get("score_name"))
    blocks = [
        Paragraph(
            "Permutation importance on the rows the network was fitted on, against "
            "held-out folds. An input is flagged when its training importance exceeds "
            f"the held-out one by more than {OVERFITTING_Z:g} standard errors and by "
            "more than half: the network relies on it for the rows it has seen, but "
            "that does not carry over to new rows (sensitive, not important)."
        )
    ]
    features = [str(name) for name in found["features"]]
    train, held_out = list(found["train"]), list(found["held_out"])
    flagged = [bool(flag) for flag in found["flagged"]]
    if not any(flagged):
        blocks.append(Paragraph("No input looks important only on the training rows."))
    order = sorted(range(len(features)), key=lambda i: _sort_key(held_out[i]))
    rows = [
        [
            features[i],
            number(train[i]),
            number(held_out[i]),
            "sensitive, not important" if flagged[i] else "",
        ]
        for i in order
    ]
    blocks.append(
        Table(
            "Training rows against held-out folds",
            found.get("unit", f"drop in {score} when the column is shuffled"),
            ["Input", "Training rows", "Held out", "Flagged"],
            rows,
            [False, True, True, False],
            marked=[flagged[i] for i in order],
        )
    )
    return blocks


def _reproduce_section(summary):
    return [
        Paragraph(f"The command that made this report, with sknnimp {_version()}:"),
        Code(str(summary["command"])),
    ]


BUILDERS = {
    "summary": _summary_section,
    "data": _data_section,
    "model": _model_section,
    "rankings": _rankings_section,
    "per-row": _per_row_section,
    "agreement": _agreement_section,
    "groups": _groups_section,
    "overfitting": _overfitting_section,
    "reproduce": _reproduce_section,
}


def _subtitle(summary):
    data, model = summary["data"], summary["model"]
    parts = [
        _text(data.get("task")),
        f"held-out {_text(model.get('score_name'))} {number(model.get('held_out'))}",
    ]
    return " · ".join(parts)


def _version():
    from . import __version__

    return __version__


# --- HTML ---------------------------------------------------------------------------

STYLE = """
:root { --ink: #1d2329; --muted: #5d6670; --line: #d8dde3; --rule: #eceff2;
        --accent: #3a6ea5; --warn: #b4470e; --warn-bg: #fff3e6; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font: 10.5pt/1.45 system-ui, -apple-system, "Segoe UI", Roboto,
       "Helvetica Neue", Arial, sans-serif; color: var(--ink); max-width: 52em;
       margin: 2em auto; padding: 0 1.5em; }
h1 { font-size: 1.5em; line-height: 1.25; margin: 0 0 .15em; }
.subtitle { color: var(--muted); margin: 0 0 .6em; }
h2 { font-size: 1.1em; margin: 1.3em 0 .45em; padding-bottom: .15em;
     border-bottom: 1px solid var(--line); break-after: avoid; }
p { margin: .35em 0; }
p:has(+ figure, + table, + .row, + pre, + ul) { break-after: avoid; }
ul { margin: .3em 0; padding-left: 1.4em; }
.warning { border: 1px solid #f0b27a; border-left: 5px solid var(--warn);
           background: var(--warn-bg); padding: .5em .8em; border-radius: 3px; }
.warning strong { color: var(--warn); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .1em 1.2em;
           margin: .35em 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.row { display: flex; flex-wrap: wrap; gap: .2em 1.6em; align-items: flex-start; }
.row > * { flex: 0 1 auto; max-width: 100%; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums;
        margin: .35em 0 .5em; break-inside: avoid; }
caption { caption-side: top; text-align: left; padding-bottom: .3em;
          font-weight: 600; }
caption .unit { display: block; font-weight: normal; color: var(--muted);
                font-size: .9em; }
th, td { padding: .12em .45em; border-bottom: 1px solid var(--rule);
         text-align: left; vertical-align: baseline; }
thead th { border-bottom: 1.5px solid var(--ink); font-weight: 600; }
tbody th { font-weight: normal; }
.num { text-align: right; white-space: nowrap; }
td.bar { width: 4.5em; min-width: 3em; padding-left: .2em;
         vertical-align: middle; }
td.bar span { display: block; height: .7em; background: var(--accent);
              border-radius: 1px; }
tr.marked td, tr.marked th { background: var(--warn-bg); }
tr.marked td:last-child { color: var(--warn); font-weight: 600; }
figure { margin: .5em 0 .8em; break-inside: avoid; }
figure img { display: block; max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: .9em; margin-top: .2em; }
pre { background: #f4f6f8; border: 1px solid var(--line); border-radius: 3px;
      padding: .55em .8em; white-space: pre-wrap; overflow-wrap: anywhere;
      font-size: .9em; break-inside: avoid; }
@page { size: A4; margin: 12mm; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 9pt; }
  h2 { margin-top: 1em; }
  .row > figure { flex: 1 1 16em; }
  table { font-size: .95em; }
  th, td { padding: .1em .35em; }
  td.bar { width: 3em; }
  figure img { max-height: 5cm; width: auto; }
}
"""


def _e(text):
    return html.escape(str(text))


def _html_table(table):
    cells = []
    for column, name in enumerate(table.header):
        css = ' class="num"' if table.numeric[column] else ""
        cells.append(f'<th scope="col"{css}>{_e(name)}</th>')
    if table.bars is not None:
        cells.append('<th class="bar" aria-hidden="true"></th>')
    lines = [
        "<table>",
        f'<caption>{_e(table.title)}<span class="unit">{_e(table.unit)}</span>'
        "</caption>",
        f"<thead><tr>{''.join(cells)}</tr></thead>",
        "<tbody>",
    ]
    for r, row in enumerate(table.rows):
        cells = []
        for column, value in enumerate(row):
            css = ' class="num"' if table.numeric[column] else ""
            if column == 0 and table.row_headers:
                cells.append(f'<th scope="row"{css}>{_e(value)}</th>')
            else:
                cells.append(f"<td{css}>{_e(value)}</td>")
        if table.bars is not None:
            width = round(100 * table.bars[r], 1)
            cells.append(
                f'<td class="bar" aria-hidden="true"><span style="width: {width}%">'
                "</span></td>"
            )
        marked = table.marked is not None and table.marked[r]
        css = ' class="marked"' if marked else ""
        lines.append(f"<tr{css}>{''.join(cells)}</tr>")
    lines += ["</tbody>", "</table>"]
    return "\n".join(lines)


def _html_block(block):
    if isinstance(block, Paragraph):
        if block.warning:
            return (
                f'<p class="warning" role="note"><strong>{_e(block.warning)}.</strong> '
                f"{_e(block.text)}</p>"
            )
        return f"<p>{_e(block.text)}</p>"
    if isinstance(block, Facts):
        pairs = "".join(
            f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>" for label, value in block.pairs
        )
        return f'<dl class="facts">{pairs}</dl>'
    if isinstance(block, Items):
        return (
            "<ul>" + "".join(f"<li>{_e(item)}</li>" for item in block.items) + "</ul>"
        )
    if isinstance(block, Table):
        return _html_table(block)
    if isinstance(block, Figure):
        data = base64.b64encode(block.png).decode("ascii")
        caption = (
            f"<figcaption>{_e(block.caption)}</figcaption>" if block.caption else ""
        )
        return (
            f'<figure><img src="data:image/png;base64,{data}" alt="{_e(block.alt)}">'
            f"{caption}</figure>"
        )
    if isinstance(block, Code):
        return f"<pre><code>{_e(block.text)}</code></pre>"
    if isinstance(block, Row):
        if len(block.boxes) == 1:
            return _html_block(block.boxes[0])
        boxes = "\n".join(_html_block(box) for box in block.boxes)
        return f'<div class="row">\n{boxes}\n</div>'
    raise TypeError(f"unknown block {block!r}")  # pragma: no cover


def render_html(summary):
    """The report as one self-contained HTML page (a string).

    >>> page = render_html(_EXAMPLE)
    >>> page.startswith("<!DOCTYPE html>"), '<section id="overfitting">' in page
    (True, True)
    >>> "a &lt;b&gt; &amp; c" in page
    True
    """
    title = _e(summary["title"])
    version = _e(_version())
    sections = [
        f'<section id="{key}">\n<h2>{_e(heading)}</h2>\n'
        + "\n".join(_html_block(block) for block in BUILDERS[key](summary))
        + "\n</section>"
        for key, heading in SECTIONS
    ]
    body = "\n".join(sections)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="sknnimp {version}">
<title>{title}</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<h1>{title}</h1>
<p class="subtitle">{_e(_subtitle(summary))}</p>
</header>
<main>
{body}
</main>
</body>
</html>
"""


# --- Markdown -----------------------------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|&~#])")
_LINE_START = re.compile(r"^(\s*)([-+=]|\d+[.)])")


def _m(text):
    """``text`` with Markdown's special characters escaped, on one line."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _m_paragraph(text):
    """:func:`_m`, and no list or heading made of the paragraph's first word."""
    return _LINE_START.sub(lambda found: found[1] + "\\" + found[2], _m(text))


def _markdown_table(table):
    header = [_m(name) or " " for name in table.header]
    rule = ["---:" if numeric else "---" for numeric in table.numeric]
    lines = [f"**{_m(table.title)}** ({_m(table.unit)})", ""]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("| " + " | ".join(rule) + " |")
    for r, row in enumerate(table.rows):
        cells = [  # numbers are ours: no Markdown in them to escape
            value if numeric else _m(value)
            for value, numeric in zip(row, table.numeric)
        ]
        if table.row_headers:
            cells[0] = f"**{cells[0]}**"
        if table.marked is not None and table.marked[r]:
            cells = [f"**{cell}**" if cell else cell for cell in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _markdown_block(block):
    if isinstance(block, Paragraph):
        if block.warning:
            return f"> **{_m(block.warning)}.** {_m(block.text)}"
        return _m_paragraph(block.text)
    if isinstance(block, Facts):
        return "\n".join(
            f"- **{_m(label)}:** {_m(value)}" for label, value in block.pairs
        )
    if isinstance(block, Items):
        return "\n".join(f"- {_m(item)}" for item in block.items)
    if isinstance(block, Table):
        return _markdown_table(block)
    if isinstance(block, Figure):
        data = base64.b64encode(block.png).decode("ascii")
        image = f"![{_m(block.alt)}](data:image/png;base64,{data})"
        return image + (f"\n\n*{_m(block.caption)}*" if block.caption else "")
    if isinstance(block, Code):
        runs = [len(run) for run in re.findall("`+", block.text)]
        fence = "`" * max(3, max(runs, default=0) + 1)
        return f"{fence}sh\n{block.text}\n{fence}"
    if isinstance(block, Row):
        return "\n\n".join(_markdown_block(box) for box in block.boxes)
    raise TypeError(f"unknown block {block!r}")  # pragma: no cover


def render_markdown(summary):
    """The report as Markdown, with the pictures embedded as ``data:`` URIs.

    >>> text = render_markdown(_EXAMPLE)
    >>> text.splitlines()[0]
    '# Which inputs matter: example'
    >>> "## Overfitting check" in text, "a \\\\<b\\\\> \\\\& c" in text
    (True, True)
    """
    parts = [f"# {_m(summary['title'])}", f"*{_m(_subtitle(summary))}*"]
    for key, heading in SECTIONS:
        parts.append(f"## {heading}")
        parts.extend(_markdown_block(block) for block in BUILDERS[key](summary))
    return "\n\n".join(parts) + "\n"


# --- Writing ------------------------------------------------------------------------


def report_format(path):
    """``"html"`` or ``"markdown"``, from the extension of ``path``.

    The command line can call this before any work to refuse a bad ``--report``.

    >>> report_format("out.HTML"), report_format("notes/run.md")
    ('html', 'markdown')
    """
    extension = os.path.splitext(os.fspath(path))[1].lower()
    if extension not in FORMATS:
        raise ValueError(
            f"cannot write a report to {os.fspath(path)!r}: the formats are HTML "
            "(.html, .htm) and Markdown (.md)"
        )
    return FORMATS[extension]


def write_report(path, summary):
    """Write the report of ``summary`` to ``path`` (UTF-8), as HTML or Markdown.

    The format follows the extension: ``.html`` or ``.htm`` for HTML, ``.md`` for
    Markdown; any other raises ``ValueError``. The file is written next to ``path``
    under a temporary name, then renamed, so a reader never sees half a report.

    Parameters
    ----------
    path : str or path-like
        Where to write the report.
    summary : dict
        What to report, with the keys

        - ``title`` (str) and ``command`` (str, the command that reproduces it);
        - ``data``: ``source`` (str), ``n_rows`` and ``n_inputs`` (int), ``inputs``
          (str, how they were prepared), ``task`` (str), ``notes`` (list of str, what
          was left out and why);
        - ``model``: ``network``, ``score_name`` (e.g. ``"R²"``), ``folds`` (str),
          ``train``, ``held_out`` and ``constant`` (float: the scores on the training
          rows, held out, and of a constant prediction), ``worth_explaining`` (bool);
        - ``summary``: list of paragraphs in plain words;
        - ``rankings``: one dict per method with ``method``, ``title``, ``unit``
          (what the numbers measure), ``features``, ``mean``, ``ci`` (list of
          ``[low, high]`` or None), ``pvalues`` (list or None) and optionally
          ``ci_label`` (the interval column's heading, default ``"Interval"``);
        - ``figures``: name -> PNG bytes, and optionally ``figure_captions``: name ->
          str. The figure called ``"agreement"`` is shown with the agreement, the one
          named by ``per_row["figure"]`` in the per-row view, the others after the
          rankings;
        - ``agreement``: None or ``{"methods": [...], "matrix": [[...], ...]}``
          (Spearman correlations);
        - ``groups``: None or a list of lists of input names measured together;
        - ``overfitting``: None or lists ``features``, ``train``, ``held_out``,
          ``flagged`` (and optionally ``unit``, str);
        - ``per_row``: None or ``{"caption": str, "figure": name in figures}``.

        Numbers that are None or NaN are shown as "–".
    """
    renderers = {"html": render_html, "markdown": render_markdown}
    text = renderers[report_format(path)](summary)
    path = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(path))
    temporary = os.path.join(folder, f".{name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


#: A small summary: the shape :func:`write_report` expects, and the doctests' input.
_EXAMPLE = {
    "title": "Which inputs matter: example",
    "command": "sknnimp example.csv --target y",
    "data": {
        "source": "example.csv",
        "n_rows": 100,
        "n_inputs": 2,
        "task": "regression",
        "inputs": "2 numeric (standardized)",
        "notes": [],
    },
    "model": {
        "network": "MLPRegressor",
        "score_name": "R²",
        "train": 0.9,
        "held_out": 0.8,
        "constant": 0.0,
        "folds": "5 shuffled folds",
        "worth_explaining": True,
    },
    "summary": ["x matters most."],
    "rankings": [
        {
            "method": "permutation",
            "title": "Held-out permutation",
            "unit": "drop in held-out R² when the column is shuffled",
            "features": ["x", "a <b> & c"],
            "mean": [0.5, 0.1],
            "ci": None,
            "pvalues": None,
        }
    ],
    "figures": {},
    "agreement": None,
    "groups": None,
    "overfitting": {
        "features": ["x", "a <b> & c"],
        "train": [0.6, 0.1],
        "held_out": [0.5, 0.1],
        "flagged": [False, False],
    },
    "per_row": None,
}
