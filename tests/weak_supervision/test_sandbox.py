"""The Python-LF sandbox: hostile or broken code fails cleanly, and the calling process stays healthy."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from weak_supervision.sandbox import ERROR_NO_FUNCTION, python_code_validate, python_votes

# The globals of the os module, reached without importing it: the classic escape from a restricted namespace.
OS_GLOBALS = (
    "g = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close'][0]"
    ".__init__.__globals__"
)
# Where an escape would leave a mark: the system's temporary folder, outside the sandbox's own.
OWNED = Path(tempfile.gettempdir()) / "oversight-sandbox-owned"


def _lf(*body: str) -> str:
    return "def label(item):\n" + "".join(f"    {line}\n" for line in body)


def _run(code: str) -> tuple[object, str, int | None]:
    result = python_votes(
        code=code, labels=["ham", "spam"], texts=["free prize", "hello"], metadata=[{}, {}], cpu_seconds=1
    )
    return result.votes, result.error, result.item_index


def test_a_good_lf_votes_per_item() -> None:
    code = _lf("import re", "return 'spam' if re.search(r'free', item.text) else None")
    votes, error, _ = _run(code)
    assert (list(votes), error) == ([1, -1], "")  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("name", "code", "message"),
    [
        ("loops forever", _lf("while True:", "    pass"), "used more than 1 s of CPU time"),
        ("allocates 10 GB", _lf("blob = bytearray(10 * 1024 ** 3)"), "MemoryError"),
        ("imports socket", _lf("import socket"), "import of 'socket' is not allowed"),
        (
            "opens a socket",
            _lf(OS_GLOBALS, "g['sys'].modules['_frozen_importlib'].__import__('_socket').socket()"),
            "No module named '_socket'",  # the sandbox's read-only root holds only what the runner loads
        ),
        ("reads /etc/passwd", _lf("return open('/etc/passwd').read()"), "name 'open' is not defined"),
        (
            "reads /etc/passwd via os",
            _lf(OS_GLOBALS, "g['read'](g['open']('/etc/passwd', 0), 100)"),
            "opening '/etc/passwd' is not allowed",
        ),
        (
            "writes a file",
            _lf(OS_GLOBALS, "g['open']('/oversight/owned', 0o101)"),
            "opening '/oversight/owned' is not allowed",
        ),
        ("imports os", "import os\n" + _lf("return None"), "import of 'os' is not allowed"),
        ("runs a command", _lf(OS_GLOBALS, f"g['system']('touch {OWNED}')"), "'os.system' is not allowed"),
        ("returns an unknown label", _lf("return 'eggs'"), "returned 'eggs': expected None or a label key"),
        ("raises", _lf("return 1 / 0"), "ZeroDivisionError"),
    ],
)
def test_hostile_or_broken_code_fails_cleanly(name: str, code: str, message: str) -> None:
    # when
    votes, error, _ = _run(code)

    # then the LF is reported as failed, with why and where, and nothing escaped
    assert votes is None
    assert message in error, error
    assert not OWNED.exists()
    # and this process (the worker) still runs Python LFs
    assert list(_run(_lf("return 'ham'"))[0]) == [0, 0]  # type: ignore[call-overload]


def test_an_error_names_the_first_failing_item() -> None:
    votes, error, item = _run(_lf("return 'spam' if item.text.startswith('free') else item.missing"))
    assert votes is None
    assert item == 1
    assert "AttributeError: missing" in error


@pytest.mark.parametrize(
    ("code", "message"),
    [("def label(item)\n    return None", "Line 1: expected ':'"), ("x = 1", ERROR_NO_FUNCTION)],
)
def test_code_is_checked_before_it_is_saved(code: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        python_code_validate(code)


def test_in_a_multi_label_project_an_lf_may_return_several_labels() -> None:
    code = _lf("found = [key for key in ('billing', 'urgent') if key in item.text]", "return found or None")
    result = python_votes(
        code=code,
        labels=["billing", "urgent", "other"],
        texts=["billing urgent", "urgent", "x"],
        metadata=[{}, {}, {}],
        multi_label=True,
        cpu_seconds=1,
    )
    assert result.votes is not None
    assert result.votes.tolist() == [[True, True, False], [False, True, False], [False, False, False]]


def test_in_a_single_label_project_a_list_is_an_error() -> None:
    votes, error, item = _run(_lf("return ['spam']"))
    assert votes is None
    assert item == 0
    assert "expected None or a label key" in error
