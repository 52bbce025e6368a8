"""Price campaigns: the per-meter state table, the meter tables a tariff maps onto, and that any
prices document is campaigns or a SchemaError naming its problems."""
import pytest
from hypothesis import given, settings, strategies as st

from edge.archive import Archive
from edge.prepaid import campaign as C
from edge.prepaid.reprice import expected_uyuan, meter_tables, writes
from edge.prepaid.tariff import tariff_from_dict
from edge.schema import SchemaError
from edge.store import Store
from protocols.civil import from_civil
from protocols.dlt645 import di as DI

T = from_civil(2027, 1, 1)


def archive():
    return Archive.from_dict({
        "port": [{"name": "p", "url": "loop://", "medium": "rs485"}],
        "meter": [{"addr": "%012d" % i, "port": "p", "prepaid": mode, "customer": "%012d" % i,
                   "tariff": tariff}
                  for i, mode, tariff in ((1, "local", "flat"), (2, "remote", "tou"),
                                          (3, "remote", "flat"))]})


def test_states_follow_the_table_and_wrong_moves_are_typed(tmp_path):
    s = C.Campaigns(Store(str(tmp_path / "a.sqlite")).db)
    c = C.Campaign("c", T, {"kind": "flat", "price": 0.6}, {"tariff_class": "flat"})
    assert s.post([c], archive(), 0.0) == [True]
    assert [r[1] for r in s.rows("c")] == ["000000000001", "000000000003"]
    assert s.move("c", "000000000001", "no_answer", 1.0, "timeout") == C.UNREACHABLE
    assert s.move("c", "000000000001", "write", 2.0) == C.WRITTEN
    with pytest.raises(C.CampaignError):
        s.move("c", "000000000001", "switched", 3.0)
    assert s.move("c", "000000000001", "read_back", 3.0) == C.VERIFIED
    assert s.move("c", "000000000003", "fail", 3.0, "why") == C.FAILED
    with pytest.raises(C.CampaignError):
        s.move("c", "000000000003", "write", 4.0)
    assert s.counts()["verified"] == 1 and s.counts()["failed"] == 1
    [summary] = s.summary()
    assert summary["failed"] == [{"meter": "000000000003", "reason": "why"}]
    other = C.Campaign("c", T, {"kind": "flat", "price": 0.7})
    with pytest.raises(C.CampaignError):
        s.post([other], archive(), 5.0)
    with pytest.raises(C.CampaignError, match="effective in the past"):
        s.post([C.Campaign("late", T, {"kind": "flat", "price": 0.7})], archive(), T + 1)
    assert s.post([c], archive(), T + 1) == [False]        # known: still a no-op


def test_a_ladder_maps_to_rate_prices_and_ladder_differences():
    tariff = tariff_from_dict({"kind": "ladder", "blocks": [[2760, 0.4883], [4800, 0.5383],
                                                             ["none", 0.7883]]})
    prices, ladder = meter_tables(tariff)
    assert set(prices.values()) == {0.4883}
    assert (ladder["value_1"], ladder["value_2"], ladder["value_3"]) == (2760.0, 4800.0, None)
    assert (ladder["price_1"], ladder["price_2"], ladder["price_3"]) == (0.0, 0.05, 0.3)
    c = C.Campaign("c", T, {"kind": "ladder", "blocks": [[2760, 0.4883], ["none", 0.7883]]})
    assert [di for di, _ in writes(c)] == [DI.DI_STANDBY_PRICES, DI.DI_STANDBY_LADDER,
                                           DI.DI_PRICE_SWITCH_TIME, DI.DI_LADDER_SWITCH_TIME]
    assert writes(c)[2][1] == bytes([0x00, 0x00, 0x01, 0x01, 0x27])     # 2701010000, low first
    # 10 kWh straddling 2760 at 2755: 5 at 0.4883, 5 at 0.7883
    before = {"kwh": [2755.0, 0, 0, 0, 0], "year": 2755.0}
    after = {"kwh": [2765.0, 0, 0, 0, 0], "year": 2765.0}
    assert expected_uyuan(c.tariff, before, after) == 5 * 488300 + 5 * 788300


VALUE = st.recursive(st.none() | st.booleans() | st.integers(-5, 10 ** 7) | st.floats()
                     | st.text(max_size=20) | st.sampled_from(["all", "2027-01-01 00:00",
                                                                "flat", "tou", "ladder"]),
                     lambda kids: st.lists(kids, max_size=4)
                     | st.dictionaries(st.sampled_from(["id", "effective", "meters", "kind",
                                                        "price", "prices", "blocks",
                                                        "tariff", "tariff_class", "x"]),
                                       kids, max_size=5), max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["campaign", "x"]), VALUE | st.lists(VALUE, max_size=3),
                       max_size=2))
def test_any_prices_document_is_campaigns_or_a_schema_error(doc):
    try:
        out = C.parse_file(doc, archive())
    except SchemaError as exc:
        assert exc.problems
    else:
        assert all(isinstance(c, C.Campaign) for c in out)
