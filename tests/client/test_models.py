"""The response parser never fails on what the contract leaves open."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nexio_lab import Evaluation, RateLimit

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
extra_fields = st.dictionaries(
    st.text(max_size=12).filter(lambda k: k not in {"eval_id", "status", "candidates"}),
    json_values,
    max_size=5,
)
candidate = st.fixed_dictionaries(
    {
        "tier": st.text(max_size=12),
        "name": st.text(max_size=20),
        "confidence": st.text(max_size=8),
        "scores": st.dictionaries(
            st.text(min_size=1, max_size=10),
            st.sampled_from(["L1", "L2", "L3", "L4", "L5", "?"]),
            max_size=8,
        ),
    },
).flatmap(lambda c: extra_fields.map(lambda extra: {**extra, **c}))


@given(
    extra=extra_fields,
    candidates=st.lists(candidate | json_values, max_size=5),
    status=st.text(max_size=12),
)
def test_unknown_fields_tiers_and_dimensions_are_kept(extra, candidates, status) -> None:
    body = {**extra, "eval_id": "eval_1", "status": status, "candidates": candidates}
    ev = Evaluation.from_json(body)
    assert ev.eval_id == "eval_1" and ev.status == (status or "unknown")
    assert ev.raw is body  # nothing dropped: every unknown field is still there
    assert len(ev.candidates) == len(candidates)
    for rank, (parsed, sent) in enumerate(zip(ev.candidates, candidates, strict=True), 1):
        assert parsed.rank == rank
        if isinstance(sent, dict) and "tier" in sent:
            assert parsed.tier == sent["tier"] and parsed.scores == sent["scores"]


@given(
    fields=st.dictionaries(
        st.sampled_from(["pool_size", "filtered", "audit", "error"]), json_values
    )
)
def test_odd_types_in_known_fields_never_raise(fields) -> None:
    ev = Evaluation.from_json({"eval_id": "e", "status": "completed", **fields})
    assert ev.pool_size is None or isinstance(ev.pool_size, int)
    assert ev.is_done


@given(
    headers=st.dictionaries(
        st.sampled_from(
            ["X-RateLimit-Limit", "x-ratelimit-remaining", "X-RateLimit-Reset", "Other"]
        ),
        st.text(max_size=12),
    )
)
def test_rate_limit_headers_parse_or_are_ignored(headers) -> None:
    info = RateLimit.from_headers(headers)
    if info is not None:
        assert info.remaining is None or info.remaining >= 0
