"""Spans of text: the one representation every span door shares, and the conversions between it and tags.

A span is `{"start", "end", "label", "text"}`: offsets in code points (Python `str` indices) of the item's
stored text, end exclusive, the entity type's key, and the quoted text `text[start:end]`. Token-tagged data
(WRENCH sequence tagging, CoNLL) becomes text by joining its tokens with one space (`tokens_join`); tags turn
into spans and back (`tag_spans`, `bio_tags`) over token offsets. Pure Python: no Django, no database.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypedDict

# A token: a run of word characters, or one other non-space character (punctuation stands alone).
_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)

OUTSIDE = "O"
ERROR_TAG = "Tag '{tag}' at token {index} is not O, B-TYPE or I-TYPE."


class SpanDict(TypedDict):
    start: int
    end: int
    label: str
    text: str


TokenOffsets = list[tuple[int, int]]
TokenSpan = tuple[int, int, str]  # first token, last token + 1, type


def tokenize(text: str) -> TokenOffsets:
    """The text's tokens as (start, end) code-point offsets: word runs, and each other non-space char."""
    return [match.span() for match in _TOKEN.finditer(text)]


def tokens_join(tokens: Sequence[str]) -> tuple[str, TokenOffsets]:
    """Tokens joined by one space, and each token's (start, end) in the joined text."""
    offsets: TokenOffsets = []
    position = 0
    for token in tokens:
        offsets.append((position, position + len(token)))
        position += len(token) + 1
    return " ".join(tokens), offsets


def span_make(text: str, start: int, end: int, label: str) -> SpanDict:
    return {"start": start, "end": end, "label": label, "text": text[start:end]}


def snap_to_tokens(offsets: TokenOffsets, start: int, end: int) -> tuple[int, int]:
    """The smallest run of whole tokens that covers [start, end); (start, end) itself where no token
    touches it (a selection of spaces only)."""
    inside = [(s, e) for s, e in offsets if s < end and e > start]
    if not inside:
        return start, end
    return min(start, inside[0][0]), max(end, inside[-1][1])


def _tag_parts(tag: str, index: int) -> tuple[str, str]:
    if tag == OUTSIDE or tag == "":
        return OUTSIDE, ""
    prefix, dash, kind = tag.partition("-")
    if not dash or prefix not in ("B", "I") or not kind:
        raise ValueError(ERROR_TAG.format(tag=tag, index=index + 1))
    return prefix, kind


def tag_spans(tags: Sequence[str], *, scheme: str = "BIO") -> list[TokenSpan]:
    """Token spans (first, last + 1, type) from tags. BIO: B- opens a span, I- continues one of the same
    type (an I- after O or another type opens one, as seqeval's lenient reading does). IOB1: I- continues
    the running span of its type and B- only separates two adjacent spans of one type."""
    spans: list[TokenSpan] = []
    open_start, open_kind = -1, ""
    for index, tag in enumerate(tags):
        prefix, kind = _tag_parts(tag, index)
        continues = prefix == "I" and kind == open_kind
        if scheme.upper() == "IOB1" and prefix == "B" and kind != open_kind:
            continues = False
        if continues:
            continue
        if open_kind:
            spans.append((open_start, index, open_kind))
        open_start, open_kind = (index, kind) if kind else (-1, "")
    if open_kind:
        spans.append((open_start, len(tags), open_kind))
    return spans


def token_spans_to_spans(
    text: str, offsets: TokenOffsets, token_spans: Sequence[TokenSpan]
) -> list[SpanDict]:
    return [
        span_make(text, offsets[first][0], offsets[last - 1][1], kind) for first, last, kind in token_spans
    ]


def bio_tags(offsets: TokenOffsets, spans: Sequence[SpanDict]) -> list[str]:
    """BIO tags per token for character spans: a token belongs to a span that covers any of it. Where spans
    overlap, the earlier-starting (then the longer) one wins, so nested spans export their outer span."""
    tags = [OUTSIDE] * len(offsets)
    ordered = sorted(spans, key=lambda span: (span["start"], -span["end"]))
    for span in ordered:
        covered = [i for i, (s, e) in enumerate(offsets) if s < span["end"] and e > span["start"]]
        if not covered or any(tags[i] != OUTSIDE for i in covered):
            continue
        tags[covered[0]] = f"B-{span['label']}"
        for i in covered[1:]:
            tags[i] = f"I-{span['label']}"
    return tags


def spans_overlap(spans: Sequence[SpanDict]) -> tuple[int, int] | None:
    """The 0-based positions (in the given order) of the first two spans that share a character, or None."""
    ordered = sorted(range(len(spans)), key=lambda i: (spans[i]["start"], spans[i]["end"]))
    reach, holder = -1, -1
    for i in ordered:
        if spans[i]["start"] < reach:
            return holder, i
        if spans[i]["end"] > reach:
            reach, holder = spans[i]["end"], i
    return None


def spans_sorted(spans: Sequence[SpanDict]) -> list[SpanDict]:
    """Spans in text order (start, then longer first, then type): the order they are stored in."""
    return sorted(spans, key=lambda span: (span["start"], -span["end"], span["label"]))


def token_offsets_of(text: str, stored: Sequence[Sequence[int]] | None) -> TokenOffsets:
    """An item's tokens: those its import gave (Item.token_offsets), else the platform's tokenizer's."""
    if stored:
        return [(int(pair[0]), int(pair[1])) for pair in stored]
    return tokenize(text)


def bio_label_names(types: Sequence[str]) -> list[str]:
    """The BIO tag names of entity types as tag ids number them: O, then B- and I- of each type in order
    (WRENCH's `entity_to_bio_labels`; a Hugging Face token-classification ClassLabel)."""
    return [OUTSIDE, *(f"{prefix}-{kind}" for kind in types for prefix in ("B", "I"))]
