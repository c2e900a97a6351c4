from __future__ import annotations

import numpy as np

from active_learning.tagger import tag_transitions, tagger_fit, tagger_predict, viterbi
from core.spans import SpanDict, bio_label_names, tokenize
from tests.active_learning.factories import span_sentence

TYPES = ["per", "loc"]


def _data(indices: range) -> tuple[list[tuple[str, list[tuple[int, int]]]], list[list[SpanDict]]]:
    sentences = [span_sentence(index) for index in indices]
    return [(text, tokenize(text)) for text, _ in sentences], [spans for _, spans in sentences]


def test_a_tagger_needs_a_span_to_learn_from() -> None:
    # given texts whose answers are all "no entities"
    texts, _ = _data(range(4))

    # when / then
    assert tagger_fit(texts, [[], [], [], []], TYPES) is None


def test_the_tagger_learns_the_spans_of_its_texts_and_finds_them_in_new_ones() -> None:
    # given
    texts, spans = _data(range(24))
    new_texts, new_spans = _data(range(100, 108))

    # when
    tagger = tagger_fit(texts, spans, TYPES)
    assert tagger is not None
    found = tagger_predict(tagger, new_texts)

    # then
    assert tagger.tags == ["O", "B-per", "I-per", "B-loc", "I-loc"]
    assert [result.spans for result in found] == new_spans
    assert all(0.5 < result.confidence <= 1.0 for result in found)
    assert all(abs(result.uncertainty - (1.0 - result.confidence)) < 1e-12 for result in found)


def test_a_text_without_tokens_has_no_spans_and_no_doubt() -> None:
    texts, spans = _data(range(8))
    tagger = tagger_fit(texts, spans, TYPES)
    assert tagger is not None

    (found,) = tagger_predict(tagger, [("   ", [])])

    assert (found.spans, found.confidence) == ([], 1.0)


def test_viterbi_never_puts_an_inside_tag_after_outside_or_another_type() -> None:
    # given token probabilities that, read one by one, say I-per first and I-loc after B-per
    tags = bio_label_names(TYPES)
    proba = np.full((3, len(tags)), 0.01)
    proba[0, tags.index("I-per")], proba[0, tags.index("B-per")] = 0.6, 0.3
    proba[1, tags.index("B-per")] = 0.9
    proba[2, tags.index("I-loc")], proba[2, tags.index("I-per")] = 0.6, 0.3
    start, transition = tag_transitions(tags)

    # when
    path = viterbi(np.log(proba), start, transition)

    # then
    assert [tags[int(tag)] for tag in path] == ["B-per", "B-per", "I-per"]


def test_tag_transitions_allow_an_inside_tag_only_after_its_own_type() -> None:
    tags = bio_label_names(TYPES)

    start, transition = tag_transitions(tags)

    assert [tag for tag, allowed in zip(tags, start == 0.0, strict=True) if not allowed] == ["I-per", "I-loc"]
    into_i_per = transition[:, tags.index("I-per")]
    assert [tag for tag, allowed in zip(tags, into_i_per == 0.0, strict=True) if allowed] == [
        "B-per",
        "I-per",
    ]
    assert (transition[:, tags.index("B-loc")] == 0.0).all()
