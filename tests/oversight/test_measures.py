"""The agreement maths against hand-worked examples, the textbook examples and the packages' own results."""

from __future__ import annotations

import math

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from oversight.measures import (
    category_counts,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    krippendorff_alpha_from_counts,
    percent_agreement,
    percent_agreement_from_counts,
)

# Wikipedia, "Fleiss' kappa", worked example: 10 items, 14 raters each, 5 categories.
WIKIPEDIA_FLEISS = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]
# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: 4 coders, 12 units; nominal
# alpha = 0.743. Rows are coders, columns units, None where a coder left a unit out.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def _units(rows: list[list[int | None]]) -> list[dict[str, int]]:
    """Coder rows -> one unit per column: coder key -> value."""
    return [
        {f"coder{c}": row[u] for c, row in enumerate(rows) if row[u] is not None}  # type: ignore[misc]
        for u in range(len(rows[0]))
    ]


def test_percent_agreement_by_hand() -> None:
    # given: 1 of 3 pairs agree, 1 of 1 agrees, and a unit rated once (left out)
    units = [{"a": "x", "b": "x", "c": "y"}, {"a": "x", "b": "x"}, {"a": "y"}]

    # when
    value = percent_agreement(units)

    # then: (1/3 + 1) / 2
    assert value == pytest.approx(2 / 3)


def test_percent_agreement_counts_agreeing_pairs_not_majorities() -> None:
    # given: 4 raters, 2 and 2: 2 agreeing pairs out of 6
    units = [{"a": 1, "b": 1, "c": 2, "d": 2}]

    # then
    assert percent_agreement(units) == pytest.approx(2 / 6)


def test_percent_agreement_from_counts_is_fleiss_p_bar() -> None:
    # when
    value = percent_agreement_from_counts(WIKIPEDIA_FLEISS)

    # then: Wikipedia's P_bar
    assert value is not None
    assert round(value, 3) == 0.378


def test_cohen_kappa_by_hand() -> None:
    # given: Wikipedia's 50 grant proposals: 20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15

    # when
    value = cohen_kappa(a, b)

    # then: p_o = 0.7, p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5, kappa = 0.2 / 0.5
    assert value == pytest.approx(0.4)
    assert value == pytest.approx(cohen_kappa_score(a, b))


@pytest.mark.parametrize("seed", range(5))
def test_cohen_kappa_matches_scikit_learn_on_random_ratings(seed: int) -> None:
    # given two raters who agree often, over four categories
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 4, size=300)
    b = np.where(rng.random(300) < 0.6, a, rng.integers(0, 4, size=300))

    # when
    value = cohen_kappa(a.tolist(), b.tolist())

    # then
    assert value == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)


def test_cohen_kappa_takes_unsortable_categories() -> None:
    # given: label sets, which scikit-learn could not sort
    a = [frozenset({"x"}), frozenset({"x", "y"}), frozenset()]
    b = [frozenset({"x"}), frozenset({"x", "y"}), frozenset({"x"})]

    # then: the same as with plain codes
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score([0, 1, 2], [0, 1, 0]))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param([], [], id="no items"),
        pytest.param(["x"], ["y"], id="one shared item"),
        pytest.param(["x", "x", "x"], ["x", "x", "x"], id="one category throughout"),
    ],
)
def test_cohen_kappa_is_none_when_undefined(a: list[str], b: list[str]) -> None:
    assert cohen_kappa(a, b) is None


def test_cohen_kappa_is_zero_when_two_raters_each_use_one_different_category() -> None:
    assert cohen_kappa(["x", "x"], ["y", "y"]) == 0.0


def test_cohen_kappa_refuses_lists_of_different_lengths() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        cohen_kappa(["x", "y"], ["x"])


def test_fleiss_kappa_reproduces_the_wikipedia_example() -> None:
    # when
    value = fleiss_kappa(WIKIPEDIA_FLEISS)

    # then: P_bar = 0.378, P_e = 0.213, kappa = 0.210 (Wikipedia rounds to three places)
    assert value is not None
    assert round(value, 3) == 0.210
    assert value == pytest.approx(0.20993, abs=1e-5)


def test_fleiss_kappa_with_different_numbers_of_raters_by_hand() -> None:
    # given: item 1 has 3 raters (2 x, 1 y), item 2 has 2 (both y), item 3 one rating (left out)
    counts = [[2, 1], [0, 2], [1, 0]]

    # when
    value = fleiss_kappa(counts)

    # then: P_1 = (4 + 1 - 3) / 6 = 1/3, P_2 = 1, P_bar = 2/3; p_x = 2/5, p_y = 3/5, P_e = 13/25
    p_bar, p_e = 2 / 3, 13 / 25
    assert value == pytest.approx((p_bar - p_e) / (1 - p_e))


@pytest.mark.parametrize(
    "counts",
    [
        pytest.param([[3, 0], [2, 0]], id="one category throughout"),
        pytest.param([[1, 0], [0, 1]], id="no item rated twice"),
        pytest.param(np.zeros((0, 3)), id="no items"),
    ],
)
def test_fleiss_kappa_is_none_when_undefined(counts: list[list[int]]) -> None:
    assert fleiss_kappa(counts) is None


def test_krippendorff_alpha_reproduces_the_2011_example_and_the_package() -> None:
    # given
    units = _units(KRIPPENDORFF_2011)
    reliability_data = [[np.nan if value is None else value for value in row] for row in KRIPPENDORFF_2011]

    # when
    value = krippendorff_alpha(units)

    # then
    package = krippendorff.alpha(reliability_data=reliability_data, level_of_measurement="nominal")
    assert value == pytest.approx(package)
    assert value is not None
    assert round(value, 3) == 0.743


def test_krippendorff_alpha_from_counts_matches_the_package_docstring() -> None:
    # given: the package's own value-counts example (units x values), whose nominal alpha is 0.691358
    value_counts = [
        [1, 0, 0, 0], [0, 0, 0, 0], [0, 2, 0, 0], [2, 0, 0, 0], [0, 0, 2, 0], [0, 0, 2, 1], [0, 0, 0, 3],
        [1, 0, 1, 0], [0, 2, 0, 0], [2, 0, 0, 0], [2, 0, 0, 0], [0, 0, 2, 0], [0, 0, 2, 0], [0, 0, 0, 0],
        [0, 0, 1, 1],
    ]  # fmt: skip

    # when
    value = krippendorff_alpha_from_counts(value_counts)

    # then
    assert value is not None
    assert round(value, 6) == 0.691358


def test_krippendorff_alpha_of_a_tiny_case_by_hand() -> None:
    # given: two coders, units (x, x), (x, y), (y, y)
    units = [{"a": "x", "b": "x"}, {"a": "x", "b": "y"}, {"a": "y", "b": "y"}]

    # when
    value = krippendorff_alpha(units, ["x", "y"])

    # then: coincidences o_xx = 2, o_xy = o_yx = 1, o_yy = 2; n_x = n_y = 3, n = 6;
    # D_o = 2/6, D_e = 2 * 3 * 3 / (6 * 5) = 0.6, alpha = 1 - (1/3) / 0.6 = 4/9
    assert value == pytest.approx(4 / 9)
    package = krippendorff.alpha(reliability_data=[[0, 0, 1], [0, 1, 1]], level_of_measurement="nominal")
    assert value == pytest.approx(package)


def test_krippendorff_alpha_ignores_units_rated_once_and_unused_categories() -> None:
    # given: the tiny case, plus a unit rated once and a category nobody used
    units = [{"a": "x", "b": "x"}, {"a": "x", "b": "y"}, {"a": "y", "b": "y"}, {"a": "z"}]

    # then
    assert krippendorff_alpha(units, ["x", "y", "w"]) == pytest.approx(4 / 9)


@pytest.mark.parametrize(
    "units",
    [
        pytest.param([], id="no units"),
        pytest.param([{"a": "x"}, {"b": "y"}], id="nothing pairable"),
        pytest.param([{"a": "x", "b": "x"}, {"a": "x", "b": "x"}, {"c": "y"}], id="one pairable value"),
    ],
)
def test_krippendorff_alpha_is_none_when_undefined(units: list[dict[str, str]]) -> None:
    assert krippendorff_alpha(units) is None


def test_category_counts_follow_the_given_categories_then_new_ones() -> None:
    # given
    units = [{"a": "y", "b": "z"}, {"a": "x"}]

    # when
    counts = category_counts(units, ["x", "y"])

    # then
    assert counts.tolist() == [[0, 1, 1], [1, 0, 0]]


def test_undefined_figures_are_none_not_nan() -> None:
    # given: everyone agrees on one category
    units = [{"a": "x", "b": "x"}, {"a": "x", "b": "x"}]

    # when
    figures = [
        percent_agreement(units),
        cohen_kappa(["x", "x"], ["x", "x"]),
        fleiss_kappa(category_counts(units)),
        krippendorff_alpha(units),
    ]

    # then
    assert figures == [1.0, None, None, None]
    assert not any(isinstance(value, float) and math.isnan(value) for value in figures)
