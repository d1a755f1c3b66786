"""Entry bytes are RFC 8785: the fast encoder path agrees with the rfc8785 package."""

from __future__ import annotations

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from deconflict.ledger.entries import canonical_json, canonical_record

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.text(),
    st.floats(allow_nan=False, allow_infinity=False),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(VALUES)
def test_canonical_json_equals_rfc8785(value):
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        return
    assert canonical_json(value) == expected


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=10), st.text(), max_size=8))
def test_canonical_record_equals_rfc8785(row):
    try:
        expected = rfc8785.dumps(row)
    except rfc8785.CanonicalizationError:
        return
    assert canonical_record(row) == expected


def test_control_characters_and_non_ascii_are_escaped_as_jcs_does():
    value = {"b": '\u0001\u001f"\\/é€😀', "a": [1, True, None]}
    assert canonical_json(value) == rfc8785.dumps(value)
