from __future__ import annotations

import json
import math

import pytest

from searchcore.training.metrics import classification_metrics, confusion_matrix


def test_confusion_matrix_rows_are_true_classes():
    cm = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], 3)
    assert cm.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


def test_hand_computed_values():
    # true: a a a b b c ; pred: a a b b c c
    y_true = [0, 0, 0, 1, 1, 2]
    y_pred = [0, 0, 1, 1, 2, 2]
    m = classification_metrics(y_true, y_pred, ["a", "b", "c"])
    assert m["accuracy"] == pytest.approx(4 / 6)
    assert m["num_samples"] == 6
    assert m["confusion_matrix"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    a, b, c = (m["per_class"][k] for k in "abc")
    assert (a["precision"], a["recall"], a["support"]) == (1.0, pytest.approx(2 / 3), 3)
    assert a["f1"] == pytest.approx(0.8)
    assert (b["precision"], b["recall"], b["support"]) == (0.5, 0.5, 2)
    assert b["f1"] == pytest.approx(0.5)
    assert (c["precision"], c["recall"], c["support"]) == (0.5, 1.0, 1)
    assert c["f1"] == pytest.approx(2 / 3)
    assert m["macro"]["precision"] == pytest.approx((1 + 0.5 + 0.5) / 3)
    assert m["macro"]["recall"] == pytest.approx((2 / 3 + 0.5 + 1) / 3)
    assert m["macro"]["f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)


def test_undefined_ratios_are_zero_not_nan_and_json_able():
    # class "c" never appears and is never predicted; class "b" is never predicted
    m = classification_metrics([0, 1, 1], [0, 0, 0], ["a", "b", "c"])
    text = json.dumps(m, allow_nan=False)  # raises on NaN/inf
    assert json.loads(text) == m
    b, c = m["per_class"]["b"], m["per_class"]["c"]
    assert b == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 2}
    assert c == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert m["per_class"]["a"]["precision"] == pytest.approx(1 / 3)
    assert all(not math.isnan(v) for v in m["macro"].values())


def test_types_are_plain_python():
    m = classification_metrics([1, 0], [1, 1], ["x", "y"])
    assert type(m["accuracy"]) is float
    assert all(type(v) is int for row in m["confusion_matrix"] for v in row)
    assert type(m["per_class"]["x"]["support"]) is int


@pytest.mark.parametrize(
    ("y_true", "y_pred", "names"),
    [([0, 1], [0], ["a", "b"]), ([0, 2], [0, 1], ["a", "b"]), ([0], [0], []), ([0], [0], ["a", "a"])],
)
def test_bad_input_raises(y_true, y_pred, names):
    with pytest.raises(ValueError):
        classification_metrics(y_true, y_pred, names)


def test_empty_input_gives_zero_accuracy():
    m = classification_metrics([], [], ["a", "b"])
    assert m["accuracy"] == 0.0 and m["num_samples"] == 0
    assert m["confusion_matrix"] == [[0, 0], [0, 0]]
