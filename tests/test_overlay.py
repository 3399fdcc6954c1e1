"""The probability bars fit the frame whatever the model: the alphabet model's 25 classes show the likeliest."""

from __future__ import annotations

import numpy as np

from model.classifier import Prediction
from realtime.overlay import MAX_BARS, bar_rows


def test_a_few_classes_keep_their_order_and_many_show_the_likeliest_first():
    few = Prediction(tuple("ABC") + ("none",), np.array([0.1, 0.6, 0.2, 0.1]))
    assert bar_rows(few) == [0, 1, 2, 3]
    classes = tuple("ABCDEFGHIKLMNOPQRSTUVWXY") + ("none",)
    probs = np.full(len(classes), 0.01)
    probs[[classes.index("S"), classes.index("E"), classes.index("A")]] = [0.5, 0.2, 0.1]
    rows = bar_rows(Prediction(classes, probs / probs.sum()))
    assert len(rows) == MAX_BARS and [classes[i] for i in rows[:3]] == ["S", "E", "A"]
