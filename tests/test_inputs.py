"""Untrusted bytes as text and JSON: strict decoding with line and column, a nesting limit."""

from __future__ import annotations

import pytest

from exchange.inputs import MAX_JSON_DEPTH, InputError, decode_text, load_json


def test_bytes_not_in_the_encoding_are_refused_with_line_and_column() -> None:
    content = "a,b\nx,西安\n".encode("gbk")
    with pytest.raises(InputError) as caught:
        decode_text(content)
    assert (caught.value.line, caught.value.column) == (2, 3)
    assert caught.value.errors[0].rule == "encoding"
    assert "\ufffd" not in str(caught.value)


def test_a_declared_encoding_decodes_and_a_bom_is_dropped() -> None:
    assert decode_text("西安".encode("gb18030"), "gb18030") == "西安"
    assert decode_text("\ufeffa".encode()) == "a"


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
def test_json_nested_too_deep_is_an_input_error(depth: int) -> None:
    with pytest.raises(InputError) as caught:
        load_json("[" * depth + "]" * depth)
    assert caught.value.errors[0].rule == "json_depth"


def test_json_within_the_limit_and_syntax_errors() -> None:
    assert load_json(b'{"a": [[1]]}') == {"a": [[1]]}
    with pytest.raises(InputError, match=r"line 1, column 2") as caught:
        load_json("{x")
    assert caught.value.errors[0].rule == "json_syntax"
