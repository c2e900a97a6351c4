"""Server-side SVG charts: well-formed, accessible, every text escaped, sensible with no data."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.utils.safestring import SafeString

from core.charts import bar_chart, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output, parsed to prove it is well-formed


def _texts(root: ET.Element) -> list[str]:
    return [element.text or "" for element in root.iter(f"{SVG}text")]


def test_line_chart_is_an_accessible_svg_with_a_fixed_viewbox() -> None:
    # given
    series = [("Labeled", [("2024-01-01", 1.0), ("2024-01-02", 3.0)]), ("Annotations", [("2024-01-02", 2.0)])]

    # when
    svg = line_chart(series, title="Progress")

    # then
    assert isinstance(svg, SafeString)
    root = _parse(svg)
    assert root.tag == f"{SVG}svg"
    assert root.attrib["role"] == "img"
    assert root.attrib["aria-label"] == "Progress"
    assert root.attrib["viewBox"] == "0 0 640 260"
    assert "width" not in root.attrib  # CSS sets the width, the viewBox keeps the shape
    assert root.find(f"{SVG}title").text == "Progress"  # type: ignore[union-attr]
    texts = _texts(root)
    assert {"Labeled", "Annotations", "2024-01-01", "2024-01-02"} <= set(texts)
    assert len(root.findall(f"{SVG}polyline")) == 1  # the one-point series is a dot, not a line
    assert len(root.findall(f"{SVG}circle")) == 3


def test_line_chart_labels_every_nth_category_so_that_labels_do_not_overlap() -> None:
    # given: three weeks of days
    days = [f"2024-01-{day:02d}" for day in range(1, 22)]

    # when
    root = _parse(line_chart([("n", [(day, 1.0) for day in days])], title="t"))

    # then: every fourth day, and the last one
    shown = [text for text in _texts(root) if text.startswith("2024-")]
    assert shown == ["2024-01-01", "2024-01-05", "2024-01-09", "2024-01-13", "2024-01-17", "2024-01-21"]


def test_line_chart_axis_rounds_up_and_percent_formats() -> None:
    # when
    plain = _texts(_parse(line_chart([("n", [("a", 7.0), ("b", 3.0)])], title="t")))
    percent = _texts(_parse(line_chart([("share", [("a", 0.5)])], title="t", percent=True)))

    # then
    assert plain[1:6] == ["0", "2", "4", "6", "8"]
    assert percent[1:6] == ["0%", "25%", "50%", "75%", "100%"]


def test_line_chart_extends_the_axis_below_zero_and_breaks_the_line_at_none() -> None:
    # given
    points: list[tuple[str, float | None]] = [
        ("w1", 0.4),
        ("w2", -0.2),
        ("w3", None),
        ("w4", 0.8),
        ("w5", 0.9),
    ]

    # when
    root = _parse(line_chart([("alpha", points)], title="Agreement", y_max=1.0))

    # then
    assert _texts(root)[1:5] == ["-0.5", "0", "0.5", "1"]
    assert len(root.findall(f"{SVG}polyline")) == 2
    assert [circle.find(f"{SVG}title").text for circle in root.iter(f"{SVG}circle")] == [  # type: ignore[union-attr]
        "alpha, w1: 0.40", "alpha, w2: -0.20", "alpha, w4: 0.80", "alpha, w5: 0.90",
    ]  # fmt: skip


def test_bar_chart_scales_bars_to_the_largest_value_and_writes_each_value() -> None:
    # when
    root = _parse(bar_chart([("spam", 200.0), ("ham", 100.0)], title="Per label"))

    # then
    assert root.attrib["aria-label"] == "Per label"
    assert [rect.attrib["width"] for rect in root.iter(f"{SVG}rect")] == ["380.0", "190.0"]
    assert _texts(root) == ["spam", "200", "ham", "100"]


def test_bar_chart_in_percent_runs_to_one_hundred_percent() -> None:
    # when
    root = _parse(bar_chart([("coverage", 0.5), ("accuracy", 0.875)], title="LFs", percent=True))

    # then
    assert [rect.attrib["width"] for rect in root.iter(f"{SVG}rect")] == ["190.0", "332.5"]
    assert _texts(root) == ["coverage", "50%", "accuracy", "87.5%"]


@pytest.mark.parametrize(
    "render",
    [
        lambda title, name: line_chart([(name, [(name, 1.0)])], title=title),
        lambda title, name: bar_chart([(name, 1.0)], title=title),
    ],
    ids=["line", "bar"],
)
def test_every_text_is_escaped(render) -> None:  # type: ignore[no-untyped-def]
    # given
    title, name = '<script>alert("x")</script> & co', "<b>a & b</b>"

    # when
    svg = render(title, name)

    # then
    assert "<script>" not in svg
    assert "<b>" not in svg
    root = _parse(svg)
    assert root.attrib["aria-label"] == title
    assert name in _texts(root)


def test_a_long_label_is_cut_before_it_is_escaped() -> None:
    # given: cutting the escaped text could leave half an entity such as "&am"
    label = "&" * 40

    # when
    root = _parse(bar_chart([(label, 1.0)], title="t"))

    # then
    assert _texts(root)[0] == "&" * 29 + "…"


@pytest.mark.parametrize(
    "svg",
    [
        line_chart([], title="Nothing"),
        line_chart([("a", []), ("b", [])], title="Nothing"),
        bar_chart([], title="Nothing"),
    ],
    ids=["line-no-series", "line-empty-series", "bar"],
)
def test_empty_input_says_so(svg: SafeString) -> None:
    # when
    root = _parse(svg)

    # then
    assert root.attrib["aria-label"] == "Nothing"
    assert _texts(root) == ["No data yet"]
    assert root.find(f"{SVG}rect") is None
