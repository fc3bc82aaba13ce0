"""Whatever a partner sends, an adapter answers with a result or a located ``PayloadError``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.errors import PayloadError
from adapters.formats import adapters

FORMATS = sorted(adapters())
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=30,
)
# Shapes close to the real ones, so the fuzzing reaches past the first check.
near_miss = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["Bundle", "Patient"]), "type": st.text(max_size=10)},
    optional={"entry": st.lists(st.fixed_dictionaries({"resource": st.dictionaries(
        st.sampled_from(["resourceType", "status", "identifier", "code", "patient"]),
        json_values, max_size=4)}), max_size=3)},
)  # fmt: skip


def parse_or_refuse(fmt: str, body: bytes) -> None:
    try:
        adapters()[fmt].parse(body)
    except PayloadError as error:
        assert error.faults and all(fault.location for fault in error.faults)


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=150, deadline=None)
@given(body=st.binary(max_size=200))
def test_arbitrary_bytes(fmt: str, body: bytes) -> None:
    parse_or_refuse(fmt, body)


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=200, deadline=None)
@given(document=json_values | near_miss)
def test_arbitrary_json(fmt: str, document: Any) -> None:
    parse_or_refuse(fmt, json.dumps(document).encode())
