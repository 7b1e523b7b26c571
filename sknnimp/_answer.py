"""What the command line says: the unit of every method's numbers, the ranked tables,
a closing summary in plain words, and the summary dict of the one-page report.

Everything here reads results that were already measured; nothing is fitted.
"""

import textwrap

import numpy as np

#: The methods the command line runs by default, and why (said in its output).
RECOMMENDED = ("gradient", "permutation")
RECOMMENDED_WHY = (
    "gradient: how much the network's output moves with each input (cheap, it reads "
    "the network); permutation: how much the held-out score needs each input (any "
    "model, with intervals and p-values). --methods all runs every method."
)

#: Two methods whose rankings correlate less than this disagree (Spearman).
DISAGREE = 0.5

#: A p-value below this is called significant in the summary.
SIGNIFICANT = 0.05

#: The summary names at most this many inputs.
TOP = 3

WIDTH = 88


def unit(method, task, cross_fitted, score_name):
    """What the numbers of ``method`` measure, in words and units."""
    output = (
        "the predicted value (target units)"
        if task == "regression"
        else "the predicted probability"
    )
    where = "held-out " if cross_fitted else "training-rows "
    loss = (
        "squared error (target units squared)" if task == "regression" else ("log loss")
    )
    units = {
        "weights": "input spread times the sum of |first-layer weights| (no unit)",
        "garson": "share of the first layer's weights (the column sums to 1)",
        "olden": f"input spread times the product of the weights: change of {output} "
        "per standard deviation, through the weights alone",
        "gradient": f"mean |change of {output}| for one standard deviation of the "
        "input",
        "probe": "one-hot probe through the network without biases (a heuristic, no "
        "unit)",
        "permutation": f"drop in {where}{score_name} when the column is shuffled",
        "conditional": f"drop in {where}{score_name} when the column is replaced by "
        "its prediction from the others (what it adds to them)",
        "ablation": f"drop in {where}{score_name} when the column is removed and the "
        "network retrained",
        "shap": f"mean |Shapley value|: the column's share of {output}, against the "
        "mean prediction",
        "integrated_gradients": f"mean |integrated gradient|: change of {output} "
        "from the average row",
        "sage": f"drop in {where}{loss} the column brings (Shapley values of the loss)",
    }
    return units[method]


def units_of(method):
    """A short reminder of what ``method``'s numbers are, for running text."""
    if method in ("permutation", "conditional", "ablation"):
        return "drops in score"
    if method == "sage":
        return "drops in loss"
    return {
        "gradient": "mean change of the prediction per standard deviation",
        "shap": "mean |Shapley value|",
        "integrated_gradients": "mean |integrated gradient|",
        "garson": "shares of the first layer's weights",
    }.get(method, "scores of the network's weights")


def _number(value, digits=4):
    if value is None or not np.isfinite(value):
        return "-"
    return f"{value:.{digits}g}"


def ranking_text(
    method, names, mean, *, ci=None, pvalues=None, unit_text="", title=None
):
    """One method's inputs, most important first, with the unit in the heading."""
    order = np.argsort(-np.asarray(mean), kind="mergesort")
    width = max(5, max(len(n) for n in names))
    has_ci = ci is not None and not np.isnan(ci).all()
    has_p = pvalues is not None
    head = f"  {'rank':>4}  {'input':<{width}}  {'importance':>11}"
    head += f"  {'95% interval':>23}" * has_ci + f"  {'p-value':>7}" * has_p
    lines = [f"{title or method}: {unit_text}" if unit_text else (title or method)]
    lines.append(head)
    for rank, i in enumerate(order, start=1):
        line = f"  {rank:>4}  {names[i]:<{width}}  {_number(mean[i]):>11}"
        if has_ci:
            low, high = ci[i]
            line += f"  [{_number(low):>10}, {_number(high):>10}]"
        if has_p:
            line += f"  {_number(pvalues[i], 2):>7}"
        lines.append(line)
    return "\n".join(lines)


def _listed(items):
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _main_result(results):
    """``(method, result)`` the summary leans on: held-out permutation (or another
    score-based method) when measured, else the first method."""
    for method in ("permutation", "conditional", "ablation", "sage", "gradient"):
        if method in results:
            return method, results[method]
    method = next(iter(results))
    return method, results[method]


def summary_paragraphs(
    names,
    results,
    *,
    score_name,
    held_out,
    constant,
    cross_fitted,
    agreement=None,
    overfitting=None,
    groups=None,
):
    """The closing summary in plain words: is the model worth explaining, which
    inputs matter and how sure that is, where the methods disagree, what looks
    important only on the training rows.

    ``results`` maps method names to results of :func:`~sknnimp.nn_importance`;
    ``agreement`` is ``(methods, Spearman matrix)``; ``overfitting`` a dict with
    ``flagged``; ``groups`` lists of names measured together.
    """
    paragraphs = []
    if not held_out > constant:
        paragraphs.append(
            f"The network is not worth explaining: its held-out {score_name} "
            f"({held_out:.3f}) is no better than a constant prediction's "
            f"({constant:.3f}). It learned little or nothing, so the importances "
            "below describe noise; improve the model (more data, other inputs, "
            "another network) before reading them."
        )
    else:
        paragraphs.append(
            f"The network is worth explaining: held-out {score_name} {held_out:.3f} "
            f"against {constant:.3f} for a constant prediction."
        )
    method, result = _main_result(results)
    mean = result.importances_mean
    order = [i for i in np.argsort(-mean, kind="mergesort") if mean[i] > 0]
    pvalues = result.get("pvalues")
    ci = result.get("importances_ci")
    where = "on held-out rows" if cross_fitted else "on the training rows"
    if not order:
        paragraphs.append(
            f"By {method} ({where}), no input matters: every importance is zero or "
            "below."
        )
    else:
        top = [names[i] for i in order[:TOP]]
        verb = "matters" if len(top) == 1 else "matter"
        sentence = f"By {method} ({where}), {_listed(top)} {verb} most"
        values = ", ".join(_number(mean[i], 3) for i in order[:TOP])
        sentence += f" ({values}; {units_of(method)})."
        if pvalues is not None:
            sure = [names[i] for i in order if pvalues[i] < SIGNIFICANT]
            unsure = [names[i] for i in range(len(names)) if pvalues[i] >= SIGNIFICANT]
            sentence += (
                f" {len(sure)} of {len(names)} inputs have a p-value below "
                f"{SIGNIFICANT}"
            )
            if unsure and len(unsure) <= 6:
                sentence += f"; for {_listed(unsure)} the data do not show an effect"
            sentence += "."
        elif ci is not None and not np.isnan(ci).all():
            above = [names[i] for i in order if ci[i, 0] > 0]
            sentence += (
                f" The 95% intervals of {len(above)} of {len(names)} inputs lie "
                "above zero."
            )
        paragraphs.append(sentence)
    if agreement is not None and len(agreement[0]) > 1:
        methods, matrix = agreement
        pairs = [
            (matrix[a][b], methods[a], methods[b])
            for a in range(len(methods))
            for b in range(a + 1, len(methods))
            if np.isfinite(matrix[a][b])
        ]
        low = [pair for pair in pairs if pair[0] < DISAGREE]
        if not pairs:
            pass
        elif not low:
            worst = min(pairs)
            paragraphs.append(
                f"The methods agree on the ranking (Spearman at least {worst[0]:.2f})."
            )
        else:
            rho, a, b = min(low)
            gap = np.abs(_ranks(results[a]) - _ranks(results[b]))
            i = int(np.argmax(gap))
            paragraphs.append(
                f"{a} and {b} disagree (Spearman {rho:.2f}): for instance {names[i]} "
                f"ranks {int(_ranks(results[a])[i])} by {a} and "
                f"{int(_ranks(results[b])[i])} by {b}. They measure different things: "
                "the network's output can be sensitive to an input that the score "
                "does not need (another input carries the same information, or the "
                "network fitted noise), so trust the score-based method for what "
                "matters to predictions."
            )
    if overfitting is not None:
        flagged = [names[i] for i in np.flatnonzero(overfitting["flagged"])]
        if len(flagged) > len(names) / 2:
            paragraphs.append(
                f"{len(flagged)} of {len(names)} inputs look important on the "
                "training rows but much less on held-out rows: the network overfits "
                "(it fits the rows it has seen much better than new ones). A smaller "
                "or more regularized network (--hidden), or more rows, would give "
                "importances that carry over."
            )
        elif flagged:
            one = len(flagged) == 1
            paragraphs.append(
                f"{_listed(flagged)} {'looks' if one else 'look'} important on the "
                "training rows but much less on held-out rows: the network relies on "
                f"{'it' if one else 'them'} for rows it has seen, which does not "
                "carry over."
            )
        else:
            paragraphs.append("No input looks important only on the training rows.")
    if groups:
        paragraphs.append(
            "Measured together, as correlated groups: "
            + "; ".join(_listed(group) for group in groups)
            + "."
        )
    return paragraphs


def _ranks(result):
    mean = result.importances_mean
    ranks = np.empty(len(mean))
    ranks[np.argsort(-mean, kind="mergesort")] = np.arange(1, len(mean) + 1)
    return ranks


def wrapped(paragraphs):
    """The paragraphs as text of at most :data:`WIDTH` columns."""
    return "\n\n".join(textwrap.fill(p, WIDTH) for p in paragraphs)
