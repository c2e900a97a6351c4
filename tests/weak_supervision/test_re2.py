"""RE2 translations of rules: on ASCII texts they match exactly where Python's `re` does, and whatever RE2
cannot say with Python's meaning is left to Python."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from weak_supervision import declarative
from weak_supervision.declarative import ABSTAIN, rule_compile, text_rules_votes
from weak_supervision.re2 import keywords_to_re2, regex_to_re2

PATTERNS = [
    r"\border\s*#?\d{4,}", r"[$€£]\s?\d+", r"reset (my|the) password", r"\s+x", r"\S\S\S", r"\w+$", r"^\W",
    r"[\d_]", r"[^\s]x", r"a.b", r"(?s)a.b", r"(?i)abc", r"ab{2,3}?c", r"(a|bc)*d", r"\bword\b", r"\Bor", r"x\Z",
    r"\Ax", r"[A-z]", r"[^\W\d]+", r"$", r"^$", r"a{,3}b", r"colou?r", r"\x0b", r"[\x1c-\x1f]", r"k", r"s$",
    r"(?x) a b  # a comment", r"(?a)\w+\s", r"free|win", r"(?:)", r"a|", r"[.]\n$", r"(\d+)-(\d+)", r"\\",
]  # fmt: skip
UNTRANSLATABLE = [r"(?<=a)b", r"(a)\1", r"(?m)^b", r"a$b", r"(?i:ab)c", r"a{1001}", r"(?>a+)b", r"a++",
                  r"(?(1)a|b)", r"(?!x)y"]  # fmt: skip
TEXTS = [
    "", "x", "a b", "ab", "abbc", "abbbc", "abbbbc", "order #12345", "ORDER 1234", "order1234", "pay $ 40", "$5",
    "reset my password", "Reset The Password", "tab\tx", "vt\x0bx", "fs\x1cx", "us\x1fx", "end with newline\n",
    "two\n\n", "s\n", "S", "word", "a word.", "swords", "for", "or", "door x", "x\n", "\nx", "_", "__init__",
    "a\nb", "axb", "ABC", "abc", "Colour color colr", "aaab", "aaaab", "bcbcd", "d", "free", "winner", "12-34",
    "back\\slash", ".\n", "K", "k", "1 2 3", "x y z ", "[]^`", "\x00\x7f", "mixed CASE Word_x",
]  # fmt: skip


def _re2_hits(pattern: str, texts: list[str]) -> list[bool]:
    result = pc.match_substring_regex(pa.array(texts, type=pa.string()), pattern)
    return [bool(value) for value in result.to_pylist()]


@pytest.mark.parametrize("ignore_case", [False, True])
@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_translated_pattern_matches_ascii_texts_exactly_where_python_does(
    pattern: str, ignore_case: bool
) -> None:
    # given a Python pattern and ASCII texts full of edge cases (\v, \x1c, newlines at the end, underscores)
    flags = re.IGNORECASE if ignore_case else 0

    # when
    translated = regex_to_re2(pattern, ignore_case)

    # then
    assert translated is not None
    expected = [re.search(pattern, text, flags) is not None for text in TEXTS]
    assert _re2_hits(translated, TEXTS) == expected


@pytest.mark.parametrize("pattern", UNTRANSLATABLE)
def test_patterns_re2_cannot_say_with_pythons_meaning_are_left_to_python(pattern: str) -> None:
    assert regex_to_re2(pattern, False) is None


def test_keywords_become_a_whole_word_pattern_and_non_ascii_ones_stay_in_python() -> None:
    # given
    pattern = keywords_to_re2(["c++", "win"], whole_words=True)

    # when / then
    assert pattern is not None
    assert _re2_hits(pattern, ["c++ rocks", "win-win", "winner", "xc++", "a win", "_win"]) == [
        True, True, False, False, True, False,
    ]  # fmt: skip
    assert keywords_to_re2(["über"], whole_words=True) is None


@pytest.mark.parametrize("union_from", [1, 3, 1000], ids=["union always", "union from 3", "no union"])
@pytest.mark.parametrize("arrow", [False, True], ids=["list", "arrow"])
def test_text_rules_at_once_equal_each_rule_alone_on_ascii_and_other_texts(
    union_from: int, arrow: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given keyword and regex rules (one untranslatable), and texts with and without non-ASCII characters
    monkeypatch.setattr(declarative, "UNION_FROM", union_from)
    specs = [
        ("keyword", {"keywords": ["free", "win", "prize"]}),
        ("keyword", {"keywords": ["call", "now"], "mode": "all"}),
        ("keyword", {"keywords": ["TXT", "text"], "case_sensitive": True}),
        ("keyword", {"keywords": ["ok", "lol"], "whole_words": False}),
        ("keyword", {"keywords": ["c++", "über", "a b"]}),
        ("regex", {"pattern": r"\d{3,}\s*$"}),
        ("regex", {"pattern": r"(?<!\w)k\w+"}),
        ("regex", {"pattern": "\u017ftop|\\bstop\\b"}),
    ]
    rules = [rule_compile(kind, spec, index % 3) for index, (kind, spec) in enumerate(specs)]
    texts = [*TEXTS, "FREE call now", "über ü", "a b c", "lollipop", "TXT me", "txt me", "Kelvin \u212aelvin",
             "\u017ftop", "STOP", "stop!", "wïn a prïze", "call 12345\n", "naïve 123 ", "c++ über"]  # fmt: skip

    # when
    together = text_rules_votes(rules, pa.array(texts) if arrow else texts)

    # then
    alone = np.column_stack([[rule.vote(text, {}) for text in texts] for rule in rules])
    assert np.array_equal(together, alone)
    assert ((together != ABSTAIN).sum(axis=0) > 0).all()  # every rule fires somewhere


def test_an_alternation_re2_refuses_leaves_each_pattern_to_read_every_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given RE2 refusing the alternation of all patterns (as it does past its program size limit)
    real = pc.match_substring_regex

    def refusing(column: pa.Array, pattern: str, **options: object) -> pa.Array:
        if pattern.count("|(?") >= 2:
            raise pa.ArrowInvalid("pattern too large - compile failed")
        return real(column, pattern, **options)

    monkeypatch.setattr(declarative.pc, "match_substring_regex", refusing)
    rules = [rule_compile("keyword", {"keywords": [word]}, 1) for word in ("free", "win", "prize", "call")]
    texts = ["free call", "a prize", "nothing", "win win", "freedom"]

    # when
    votes = text_rules_votes(rules, texts)

    # then
    assert np.array_equal(votes, np.column_stack([[rule.vote(text, {}) for text in texts] for rule in rules]))
