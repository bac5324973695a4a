"""The guard's fast path skips parsing a JSON body that cannot decode to a control character; it
must never call clean a body in which the full walk would find one."""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import example, given
from hypothesis import strategies as st

from shared.request_guard import _control_fields, may_hold_control_characters


def walk_finds_controls(body: bytes) -> bool:
    """What the guard did for every body before the fast path: parse, then walk."""
    try:
        document = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return False
    found: list[str] = []
    _control_fields(document, "body", found)
    return bool(found)


# Text weighted towards what matters: controls, DEL, quotes, backslashes, and characters whose
# UTF-8 or escaped forms are multi-byte, among ordinary letters.
_tricky = st.sampled_from(
    [
        "\x00",
        "\x01",
        "\x08",
        "\t",
        "\n",
        "\x0b",
        "\r",
        "\x1f",
        "\x7f",
        '"',
        "\\",
        "\u0080",
        "\u2028",
    ]
)
text = st.lists(st.one_of(_tricky, st.characters(codec="utf-8")), max_size=12).map("".join)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=20,
)


def _encodings(value: Any) -> list[bytes]:
    # orjson writes controls as escapes and everything else raw; json.dumps can escape every
    # non-ASCII character too, and indent adds raw whitespace between tokens.
    return [
        orjson.dumps(value),
        orjson.dumps(value, option=orjson.OPT_INDENT_2),
        json.dumps(value, ensure_ascii=True).encode(),
        json.dumps(value, ensure_ascii=False, indent="\t").encode(),
    ]


@given(json_values)
@example({"ghi_chu": "dòng 1\ndòng 2"})
@example(["\x7f"])
@example({"\x00": 1})
def test_fast_path_calls_a_body_clean_only_when_the_walk_finds_nothing(value: Any) -> None:
    for body in _encodings(value):
        if not may_hold_control_characters(body):
            assert not walk_finds_controls(body), body


@given(st.binary(max_size=64))
@example(b'{"a": "\x7f"}')
@example(b'["\\u0000"]')
def test_fast_path_is_safe_on_any_bytes_a_client_sends(body: bytes) -> None:
    if not may_hold_control_characters(body):
        assert not walk_finds_controls(body)


def test_ordinary_bodies_take_the_fast_path() -> None:
    # Vietnamese text and pretty-printed JSON carry no escape: nothing to parse twice.
    body = json.dumps(
        {"applicant": {"name": "Nguyễn Thị Lan", "address": "Số 5 phố Hàng Bạc"}},
        ensure_ascii=False,
        indent=2,
    ).encode()
    assert not may_hold_control_characters(body)
    assert may_hold_control_characters(json.dumps({"name": "Nguyễn"}).encode())  # \u escapes
    assert may_hold_control_characters(b'{"text": "a\\u0001b"}')
