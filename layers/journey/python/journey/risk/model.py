"""A trained exit-risk model, evaluated without numpy: a gradient-boosted tree ensemble read from
the JSON that ``ml/`` exports (format ``journey-exit-risk-gbt/1``, docs/exit-risk.md).

The stream processor scores every user of every batch, so the trees are compiled once, at load,
into two Python functions (one that only sums leaf values, one that also attributes each split
on the path to its input). The generated source is built from numbers this module has validated
(integers and float reprs), never from text taken from the file.

``probability`` is the calibrated probability (score = round(probability x 100)); ``explain`` adds
per-input contributions in log-odds (Saabas path attribution: for every split on a tree's path,
value(child) - value(node) goes to the split's input). The contributions of a model whose trees
are centred (root value 0, as ``ml.export`` writes them) add up to raw log-odds - baseScore."""

from __future__ import annotations

import itertools
import json
import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
from heapq import nlargest
from typing import Any

FORMAT = "journey-exit-risk-gbt/1"
MAX_TREE_DEPTH = 48  # nested blocks of the generated source; trained trees are 3-4 deep
MAX_LOG_ODDS = 1_000.0  # |baseScore| and |leaf value|: trained ones are below 20; beyond this the file is corrupt
_NAN = math.nan
_LEAF = -1

_RawFunction = Callable[[Sequence[float]], float]
_ExplainFunction = Callable[[Sequence[float]], tuple[float, tuple[float, ...]]]


class ModelFormatError(ValueError):
    """The model document is not a valid ``journey-exit-risk-gbt/1`` model; the message says where."""


class ExitRiskModel:
    """A validated, compiled model. Build it with :meth:`from_dict` or :meth:`from_json`."""

    __slots__ = (
        "_calibration_x",
        "_calibration_y",
        "_explain",
        "_explained_inputs",
        "_raw_sum",
        "base_score",
        "created_at",
        "encoding",
        "inputs",
        "metrics",
        "tree_count",
        "version",
        "vocabulary",
    )

    def __init__(
        self,
        *,
        version: str,
        created_at: str,
        inputs: tuple[str, ...],
        vocabulary: tuple[str, ...],
        encoding: dict[str, Any],
        metrics: dict[str, Any],
        base_score: float,
        trees: list[list[tuple[int, float, int, int, int, float]]],
        calibration: tuple[tuple[float, ...], tuple[float, ...]],
    ) -> None:
        self.version = version
        self.created_at = created_at
        self.inputs = inputs
        self.vocabulary = vocabulary
        self.encoding = encoding
        self.metrics = metrics
        self.base_score = base_score
        self.tree_count = len(trees)
        self._calibration_x, self._calibration_y = calibration
        self._raw_sum, self._explain, self._explained_inputs = _compile(trees, len(inputs))

    @classmethod
    def from_json(cls, text: str | bytes) -> ExitRiskModel:
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ModelFormatError(f"the model is not JSON: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExitRiskModel:
        if not isinstance(data, dict):
            raise ModelFormatError(f"the model must be a JSON object, not {type(data).__name__}")
        if data.get("format") != FORMAT:
            raise ModelFormatError(f"format is {data.get('format')!r}; this evaluator reads {FORMAT!r}")
        version = data.get("version")
        if not isinstance(version, str) or not version:
            raise ModelFormatError("version must be a non-empty string")
        created_at = data.get("createdAt", "")
        if not isinstance(created_at, str):
            raise ModelFormatError("createdAt must be a string")
        inputs = _strings(data.get("inputs"), "inputs")
        if not inputs:
            raise ModelFormatError("inputs must name at least one input")
        if len(set(inputs)) != len(inputs):
            raise ModelFormatError(f"inputs repeat a name: {sorted({n for n in inputs if inputs.count(n) > 1})}")
        vocabulary = _strings(data.get("vocabulary", []), "vocabulary")
        encoding = data.get("encoding", {})
        metrics = data.get("metrics", {})
        if not isinstance(encoding, dict) or not isinstance(metrics, dict):
            raise ModelFormatError("encoding and metrics must be JSON objects")
        base_score = _log_odds(data.get("baseScore"), "baseScore")
        raw_trees = data.get("trees")
        if not isinstance(raw_trees, list):
            raise ModelFormatError("trees must be a list of trees")
        if not raw_trees:
            raise ModelFormatError("trees is empty: every user would get the same score (a trained model has one tree or more)")
        trees = [_tree(tree, t, len(inputs)) for t, tree in enumerate(raw_trees)]
        calibration = _calibration(data.get("calibration"))
        return cls(
            version=version,
            created_at=created_at,
            inputs=inputs,
            vocabulary=vocabulary,
            encoding=encoding,
            metrics=metrics,
            base_score=base_score,
            trees=trees,
            calibration=calibration,
        )

    def log_odds(self, values: Sequence[float | None]) -> float:
        """baseScore + the leaf values the input vector reaches (the model's raw margin)."""
        return self.base_score + self._raw_sum(self._vector(values))

    def raw(self, values: Sequence[float | None]) -> float:
        """The uncalibrated probability: the sigmoid of the log-odds."""
        return _sigmoid(self.log_odds(values))

    def probability(self, values: Sequence[float | None]) -> float:
        """The calibrated probability, 0..1."""
        return self.calibrate(_sigmoid(self.log_odds(values)))

    def calibrate(self, raw: float) -> float:
        """The calibration curve at ``raw``: linear between its points, flat beyond its ends."""
        xs, ys = self._calibration_x, self._calibration_y
        i = bisect_right(xs, raw)
        if i == 0:
            return ys[0]
        if i == len(xs):
            return ys[-1]
        x0, x1 = xs[i - 1], xs[i]
        return ys[i - 1] + (ys[i] - ys[i - 1]) * (raw - x0) / (x1 - x0)

    def explain(self, values: Sequence[float | None]) -> tuple[float, list[tuple[str, float]]]:
        """The calibrated probability and the inputs' contributions in log-odds: nonzero ones only,
        the largest absolute first."""
        total, parts = self._explain(self._vector(values))
        names = self.inputs
        contributions = [(names[i], c) for i, c in zip(self._explained_inputs, parts, strict=True) if c != 0.0]
        contributions.sort(key=_magnitude, reverse=True)
        return self.calibrate(_sigmoid(self.base_score + total)), contributions

    def explain_top(self, values: Sequence[float | None], top: int = 3) -> tuple[float, list[tuple[str, float]], float]:
        """What the stream processor keeps per score, cheaper than :meth:`explain`: the calibrated
        probability, the ``top`` inputs that raised the log-odds most (positive contributions, largest
        first) and the sum of every positive contribution."""
        total, parts = self._explain(self._vector(values))
        raising = [(c, i) for c, i in zip(parts, self._explained_inputs, strict=True) if c > 0.0]
        names = self.inputs
        best = [(names[i], c) for c, i in nlargest(top, raising)]
        return self.calibrate(_sigmoid(self.base_score + total)), best, sum(c for c, _ in raising)

    def _vector(self, values: Sequence[float | None]) -> Sequence[float]:
        if len(values) != len(self.inputs):
            raise ValueError(f"the model takes {len(self.inputs)} inputs ({', '.join(self.inputs[:5])}, ...), got {len(values)}")
        if None in values:  # missing as None becomes NaN, which every split sends its missing way
            return [_NAN if v is None else v for v in values]
        return values  # type: ignore[return-value]  # no None left: all floats


def _magnitude(item: tuple[str, float]) -> float:
    return abs(item[1])


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _strings(value: object, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ModelFormatError(f"{what} must be a list of strings")
    return tuple(value)


def _finite(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ModelFormatError(f"{what} must be a finite number, not {value!r}")
    return float(value)


def _log_odds(value: object, what: str) -> float:
    """A base score or leaf value: finite and of a size log-odds can have (a larger one is a corrupt file)."""
    number = _finite(value, what)
    if abs(number) > MAX_LOG_ODDS:
        raise ModelFormatError(f"{what} is {number!r}: log-odds beyond ±{MAX_LOG_ODDS:g} (a corrupt model)")
    return number


def _index(value: object, what: str, below: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ModelFormatError(f"{what} is {value!r}: an index must be a whole number (written without a decimal point)")
    if not 0 <= value < below:
        raise ModelFormatError(f"{what} is {value!r}: index out of range 0..{below - 1}")
    return value


def _tree(tree: object, t: int, n_inputs: int) -> list[tuple[int, float, int, int, int, float]]:
    """One tree's nodes, checked: a node's children come after it, every node but the root has
    exactly one parent, and no path is deeper than MAX_TREE_DEPTH."""
    if not isinstance(tree, list) or not tree:
        raise ModelFormatError(f"tree {t} must be a non-empty list of nodes")
    nodes: list[tuple[int, float, int, int, int, float]] = []
    parents = [0] * len(tree)
    for n, node in enumerate(tree):
        where = f"tree {t} node {n}"
        if not isinstance(node, list) or len(node) != 6:
            raise ModelFormatError(f"{where} must be [input, threshold, missing_goes_left, left, right, value]")
        value = _log_odds(node[5], f"{where} value")
        if node[0] == _LEAF and not isinstance(node[0], bool):
            nodes.append((_LEAF, 0.0, 0, 0, 0, value))
            continue
        feature = _index(node[0], f"{where} input", n_inputs)
        threshold = _finite(node[1], f"{where} threshold")
        if isinstance(node[2], bool) or node[2] not in (0, 1):
            raise ModelFormatError(f"{where} missing_goes_left must be 0 or 1, not {node[2]!r}")
        left = _index(node[3], f"{where} left child", len(tree))
        right = _index(node[4], f"{where} right child", len(tree))
        if left <= n or right <= n or left == right:
            raise ModelFormatError(f"{where}: children must be two different nodes after it, not {left} and {right}")
        parents[left] += 1
        parents[right] += 1
        nodes.append((feature, threshold, int(node[2]), left, right, value))
    orphans = [n for n in range(1, len(tree)) if parents[n] != 1]
    if orphans:
        raise ModelFormatError(f"tree {t}: nodes {orphans[:5]} are not reached exactly once from the root")
    depth = [0] * len(nodes)
    for n, (feature, _, _, left, right, _) in enumerate(nodes):
        if feature != _LEAF:
            depth[left] = depth[right] = depth[n] + 1
    if max(depth) > MAX_TREE_DEPTH:
        raise ModelFormatError(f"tree {t} is {max(depth)} deep; this evaluator takes at most {MAX_TREE_DEPTH}")
    return nodes


def _calibration(value: object) -> tuple[tuple[float, ...], tuple[float, ...]]:
    if not isinstance(value, dict):
        raise ModelFormatError('calibration must be {"x": [...], "y": [...]}')
    xs_raw, ys_raw = value.get("x"), value.get("y")
    if not isinstance(xs_raw, list) or not isinstance(ys_raw, list) or not xs_raw or len(xs_raw) != len(ys_raw):
        raise ModelFormatError("calibration x and y must be non-empty lists of the same length")
    xs = tuple(_finite(v, "calibration x") for v in xs_raw)
    ys = tuple(_finite(v, "calibration y") for v in ys_raw)
    if any(b <= a for a, b in itertools.pairwise(xs)):
        raise ModelFormatError("calibration x is not ascending (each point must be above the one before)")
    if any(b < a for a, b in itertools.pairwise(ys)):
        raise ModelFormatError("calibration y is not ascending: a higher raw probability must not calibrate lower")
    if ys[0] < 0.0 or ys[-1] > 1.0:
        raise ModelFormatError("calibration y must stay within 0..1")
    if xs[0] < 0.0 or xs[-1] > 1.0:
        raise ModelFormatError("calibration x (raw probabilities) must stay within 0..1")
    return xs, ys


def _compile(
    trees: list[list[tuple[int, float, int, int, int, float]]], n_inputs: int
) -> tuple[_RawFunction, _ExplainFunction, tuple[int, ...]]:
    """Two functions over the input vector (missing = NaN): the sum of the leaf values reached,
    and that sum with each split input's summed contribution (for the inputs that any tree splits)."""
    used = sorted({feature for tree in trees for feature, *_ in tree if feature != _LEAF})
    unpack = ", ".join(f"x{i}" if i in used else "_" for i in range(n_inputs))
    raw_lines = ["def raw_sum(x):", f"    {unpack}{',' if n_inputs == 1 else ''} = x", "    s = 0.0"]
    explain_lines = ["def explain(x):", raw_lines[1], "    s = 0.0"]
    explain_lines += [f"    c{i} = 0.0" for i in used]
    for tree in trees:
        _emit(tree, 0, 1, raw_lines, None)
        _emit(tree, 0, 1, explain_lines, {})
    raw_lines.append("    return s")
    explain_lines.append(f"    return s, ({''.join(f'c{i}, ' for i in used)})")
    namespace: dict[str, Any] = {}
    source = "\n".join(raw_lines + explain_lines) + "\n"
    exec(compile(source, "<exit-risk model>", "exec"), namespace)  # validated numbers only, see the module doc
    return namespace["raw_sum"], namespace["explain"], tuple(used)


def _emit(
    tree: list[tuple[int, float, int, int, int, float]],
    n: int,
    depth: int,
    lines: list[str],
    path: dict[int, float] | None,
) -> None:
    """The source of node ``n`` at indent ``depth``; ``path`` (explain only) sums the contribution of
    each input on the way down, and a leaf adds it to that input's counter."""
    feature, threshold, missing_left, left, right, value = tree[n]
    pad = "    " * depth
    if feature == _LEAF:
        lines.append(f"{pad}s += {value!r}")
        if path is not None:
            lines.extend(f"{pad}c{i} += {c!r}" for i, c in path.items() if c != 0.0)
        return
    # NaN fails every comparison: "x <= t" sends it right, "not x > t" sends it left
    test = f"not x{feature} > {threshold!r}" if missing_left else f"x{feature} <= {threshold!r}"
    lines.append(f"{pad}if {test}:")
    for child, keyword in ((left, None), (right, "else:")):
        if keyword:
            lines.append(f"{pad}{keyword}")
        child_path = None
        if path is not None:
            child_path = dict(path)
            child_path[feature] = child_path.get(feature, 0.0) + (tree[child][5] - value)
        _emit(tree, child, depth + 1, lines, child_path)
