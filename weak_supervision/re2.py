"""Keyword and regex rules in C++: RE2 patterns that pyarrow applies to a whole column of texts at once.

Python's `re` (what Snorkel's PandasLFApplier runs, and the reference here) and RE2 read some patterns
differently: `\\s`, `\\w` and case folding reach beyond ASCII in `re`, `$` also matches before a final newline,
and RE2 has no look-arounds or back-references. So a pattern is translated from Python's own parse of it, and
only for texts that are pure ASCII, where every difference can be written out:

- each single-character item (a literal, `.`, a class, `\\d`, `\\s`, `\\w` and their negations, under the
  pattern's flags) becomes the explicit set of ASCII characters that Python's engine says it matches;
- repeats, groups, alternations and the anchors `^`, `\\A`, `\\Z`, `\\b`, `\\B` keep their meaning, and `$` is
  translated where it ends the pattern;
- anything else (look-arounds, back-references, conditionals, atomic groups, possessive repeats, local flags,
  MULTILINE, repeats beyond RE2's limit of 1000) gives None, and such a rule runs in Python.

Keyword rules are written directly: their lower-cased keywords (ASCII ones only) between "no word character"
boundaries, matched case-insensitively where the rule ignores case. Texts that are not pure ASCII always go
the Python way, so a vote never depends on which engine gave it (tested against `re` on edge cases).
"""

from __future__ import annotations

import importlib
import re
from functools import lru_cache
from typing import Any

# Python's own parser and compiler of patterns (no public API; the same modules in every Python 3.11+).
sre: Any = importlib.import_module("re._constants")
sre_parse: Any = importlib.import_module("re._parser")
sre_compiler: Any = importlib.import_module("re._compiler")

ASCII = [chr(code) for code in range(128)]
RE2_MAX_REPEAT = 1000
# What "a word character" means to keyword rules, on ASCII: str.isalnum() or the underscore.
WORD = "A-Za-z0-9_"
SUPPORTED_FLAGS = re.IGNORECASE | re.UNICODE | re.ASCII | re.VERBOSE | re.DOTALL


class _Untranslatable(Exception):
    """The pattern uses something RE2 cannot say with Python's meaning."""


def _char(char: str) -> str:
    """One character, escaped for RE2 (letters and digits as they are, the rest by code point)."""
    return char if char.isascii() and char.isalnum() else f"\\x{{{ord(char):x}}}"


def _char_set(chars: list[str]) -> str:
    """A class of these ASCII characters, in ranges."""
    if not chars:
        return "[^\\x{0}-\\x{7f}]"  # no ASCII character: never matches an ASCII text
    if len(chars) == len(ASCII):
        return "[\\x{0}-\\x{7f}]"
    codes = sorted(ord(char) for char in chars)
    parts, start, previous = [], codes[0], codes[0]
    for code in [*codes[1:], -1]:
        if code == previous + 1:
            previous = code
            continue
        parts.append(
            _char(chr(start)) if start == previous else f"{_char(chr(start))}-{_char(chr(previous))}"
        )
        start = previous = code
    return f"[{''.join(parts)}]"


def _single(node: tuple[Any, Any], state: Any, flags: int) -> str:
    """A single-character item as the set of ASCII characters Python's engine matches with it."""
    compiled = _compile(sre_parse.SubPattern(state, [node]), flags)
    return _char_set([char for char in ASCII if compiled.fullmatch(char)])


def _compile(pattern: Any, flags: int) -> re.Pattern[str]:
    compiled: re.Pattern[str] = sre_compiler.compile(pattern, flags)
    return compiled


SINGLE = {sre.LITERAL, sre.NOT_LITERAL, sre.ANY, sre.IN, sre.CATEGORY}
ANCHORS = {
    sre.AT_BEGINNING: "^",
    sre.AT_BEGINNING_STRING: "\\A",
    sre.AT_END_STRING: "\\z",
    sre.AT_BOUNDARY: "\\b",
    sre.AT_NON_BOUNDARY: "\\B",
}


def _sequence(items: Any, state: Any, flags: int, *, last: bool) -> str:
    out = []
    for position, node in enumerate(items):
        out.append(_node(node, state, flags, last=last and position == len(items) - 1))
    return "".join(out)


def _node(node: tuple[Any, Any], state: Any, flags: int, *, last: bool) -> str:
    op, value = node
    if op in SINGLE:
        return _single(node, state, flags)
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        low, high, items = value
        if low > RE2_MAX_REPEAT or (high != sre.MAXREPEAT and high > RE2_MAX_REPEAT):
            raise _Untranslatable
        body = _sequence(items, state, flags, last=False)
        bound = f"{{{low},}}" if high == sre.MAXREPEAT else f"{{{low},{high}}}"
        return f"(?:{body}){bound}{'?' if op == sre.MIN_REPEAT else ''}"
    if op == sre.SUBPATTERN:
        _, add_flags, del_flags, items = value
        if add_flags or del_flags:
            raise _Untranslatable
        return f"(?:{_sequence(items, state, flags, last=last)})"
    if op == sre.BRANCH:
        _, branches = value
        return "(?:" + "|".join(_sequence(items, state, flags, last=last) for items in branches) + ")"
    if op == sre.AT:
        if value in ANCHORS:
            return ANCHORS[value]
        if value == sre.AT_END and last:
            # Python's `$`: the end, or before a newline that ends the text. Nothing follows it in the
            # pattern, so taking that newline in changes nothing about whether the pattern matches.
            return "(?:\\n?\\z)"
    raise _Untranslatable


@lru_cache(maxsize=256)
def regex_to_re2(pattern: str, ignore_case: bool) -> str | None:
    """An RE2 pattern that matches an ASCII text exactly where `re.search(pattern, text, flags)` does, or
    None where there is none."""
    flags = re.IGNORECASE if ignore_case else 0
    try:
        parsed = sre_parse.parse(pattern, flags)
    except re.error:
        return None
    flags = parsed.state.flags
    if flags & ~SUPPORTED_FLAGS:
        return None
    try:
        return _sequence(list(parsed), parsed.state, flags, last=True)
    except (_Untranslatable, RecursionError):
        return None


def keywords_to_re2(words: list[str], *, whole_words: bool) -> str | None:
    """An RE2 pattern that finds any of these keywords (already lower-cased where the rule ignores case) in
    an ASCII text, or None when a keyword is not ASCII (it then runs in Python)."""
    if not words or not all(word.isascii() for word in words):
        return None
    alternation = "|".join("".join(_char(char) for char in word) for word in words)
    if not whole_words:
        return f"(?:{alternation})"
    return f"(?:\\A|[^{WORD}])(?:{alternation})(?:[^{WORD}]|\\z)"
