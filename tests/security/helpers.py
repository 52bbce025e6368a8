"""Hypothesis strategies for bad input: any TOML-like value, and a valid document with a few of
its values replaced or removed."""
import copy

from hypothesis import strategies as st

from tests.conftest import ROOT

# the shipped example config (deploy/agent.toml; edge/deploy/agent.toml once it ships in the wheel)
SHIPPED_CONFIG = next(p for p in (ROOT / "edge" / "deploy" / "agent.toml",
                                  ROOT / "deploy" / "agent.toml") if p.exists())

SCALARS = (st.none() | st.booleans() | st.integers(-10 ** 30, 10 ** 30)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)


def paths(node, prefix=()):
    """Every path (keys and indices) into a nested document."""
    items = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else ()
    for key, value in items:
        yield prefix + (key,)
        yield from paths(value, prefix + (key,))


@st.composite
def mutated(draw, doc):
    """``doc`` with one to three values replaced by any value (or a key removed)."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 3))):
        where = list(paths(doc))
        if not where:
            break
        path = draw(st.sampled_from(where))
        node = doc
        for key in path[:-1]:
            node = node[key]
        if isinstance(node, dict) and draw(st.booleans()) and draw(st.booleans()):
            del node[path[-1]]
        else:
            node[path[-1]] = draw(VALUES)
    return doc
