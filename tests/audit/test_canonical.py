"""The fast canonical JSON of audit documents is byte-for-byte RFC 8785 (the rfc8785 package)."""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.chain import canonical_json

KEYS = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)
    | st.text(max_size=40)  # any code point but lone surrogates, control characters included
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=25,
)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(KEYS, DOCUMENTS, max_size=18))
def test_fast_path_writes_exactly_the_jcs_bytes(document: dict[str, Any]) -> None:
    assert canonical_json(document) == rfc8785.dumps(document)


@pytest.mark.parametrize(
    "document",
    [
        {"reason": 'tab\t, newline\n, quote ", back\\slash, \u001f, \u007f, \u2028 é ✓ 𝄞'},
        {"b": 1, "a": [None, True, False, -(2**53 - 1)], "é": "non-ASCII key"},
        {"n": 2**53},  # beyond the safe range: rfc8785 decides (and refuses)
        {"s": "lone \ud800 surrogate"},  # not encodable: rfc8785 refuses, and so do we
    ],
)
def test_edge_cases_match_or_fall_back_to_the_reference(document: dict[str, Any]) -> None:
    try:
        expected = rfc8785.dumps(document)
    except Exception as refused:  # the reference refuses: so must the fast path
        with pytest.raises(type(refused)):
            canonical_json(document)
        return
    assert canonical_json(document) == expected
