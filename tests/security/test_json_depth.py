"""The JSON depth counter agrees with the parsed value's depth on any JSON, strings with brackets included."""
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from app.security.bodies import json_depth

SCALARS = st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\n\u00e9')
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
                      max_leaves=30)


def depth(value):
    if isinstance(value, list):
        return 1 + max((depth(item) for item in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth(item) for item in value.values()), default=0)
    return 0


@settings(max_examples=300, database=None, derandomize=True, deadline=None)
@given(VALUES, st.booleans())
def test_json_depth_matches_the_parsed_depth(value, ascii_only):
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert json_depth(text.encode()) == depth(value)


def test_counting_stops_past_the_limit():
    assert json_depth(b"[" * 1000, stop_above=32) == 33
