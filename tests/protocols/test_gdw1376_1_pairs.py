"""Q/GDW 1376.1 multi-pair DA/DT: one unit per (Pn, Fn), requests decode fully, a parse that
cannot size a pair says where it stopped, packed encoding, and round trips of multi-pair frames."""
import pytest
from hypothesis import given, settings, strategies as st

from protocols.errors import DecodeError as ProtocolDecodeError
from protocols.gdw1376_1 import Unit, decode_frame, encode_units, parse_units
from protocols.gdw1376_1.catalog import (CURVE_FORMATS, LAYOUTS, READING_NAMES, TD_CURVE, TD_DAY,
                                         TD_KIND, TD_MONTH, layout)
from protocols.gdw1376_1.dadt import encode_dt
from protocols.gdw1376_1.erc import decode_event
from protocols.gdw1376_1.units import blocks, request_units

from tests.conftest import ROOT, load_toml

VECTORS = load_toml(ROOT / "tests/protocols/vectors/gdw1376_1/pairs.toml")["frame"]


def plain(v):
    if isinstance(v, bytes):
        return v.hex(" ").upper()
    return [plain(x) for x in v] if isinstance(v, (list, tuple)) else v


@pytest.mark.parametrize("vec", VECTORS, ids=[v["name"] for v in VECTORS])
def test_golden_frames_decode_every_pair_and_pack_back_to_their_bytes(vec):
    f = decode_frame(bytes.fromhex(vec["hex"]))
    units = parse_units(f.afn, f.data, f.up)
    assert [[u.pn, u.fn] for u in units] == vec["pairs"]
    assert all(u.stop is None for u in units)
    for u, want in zip(units, vec.get("values", [])):
        assert {k: plain(u.value[k]) for k in want} == want
    for e, want in zip(units[0].value.get("events", []) if units[0].value else [],
                       vec.get("events", [])):
        rec = decode_event(e["erc"], e["data"])
        assert type(rec).__name__ == want["record"] and e["erc"] == want["erc"]
        assert {k: plain(getattr(rec, k)) for k in want if k not in ("erc", "record")} == {
            k: v for k, v in want.items() if k not in ("erc", "record")}
        assert rec.encode() == e["data"]
    assert encode_units(units, pack=True) == f.data


# an answer: F129 on p1 (known), then a block naming F26 (no layout here) on p1 and p2
F129_P1 = bytes.fromhex("01 01 01 10 15 10 01 12 26 00 00 25 34 12 00")
UNKNOWN_BLOCK = bytes.fromhex("03 01 02 03") + bytes(range(1, 12))


def test_an_unknown_item_in_an_answer_keeps_its_bytes_and_says_where_it_stopped():
    units = parse_units(0x0C, F129_P1 + UNKNOWN_BLOCK, True)
    assert [(u.pn, u.fn) for u in units] == [(1, 129), (1, 26)]
    stop = units[-1].stop
    assert stop["offset"] == len(F129_P1) + 4 and stop["fn"] == 26 and stop["pn"] == 1
    assert stop["pending"] == [(2, 26)] and "no layout for AFN0C F26" in stop["reason"]
    assert units[-1].value["raw"] == bytes(range(1, 12))


def test_an_unknown_first_item_is_a_stop_not_an_exception():
    (u,) = parse_units(0x0C, UNKNOWN_BLOCK, True)
    assert u.fn == 26 and u.stop["offset"] == 4 and u.value["raw"] == UNKNOWN_BLOCK[4:]


def test_a_later_pair_its_layout_rejects_stops_the_parse_with_the_reason():
    short = F129_P1 + bytes.fromhex("02 01 01 10 15 10 01")        # p2 F129 cut short
    units = parse_units(0x0C, short, True)
    assert units[0].value["forward_active"] == [1234.25]
    assert units[1].pn == 2 and units[1].stop["offset"] == len(F129_P1) + 4
    assert "needs" in units[1].stop["reason"]
    with pytest.raises(ProtocolDecodeError):
        parse_units(0x0C, short[len(F129_P1):], True)               # nothing read: typed error
    assert parse_units(0x0C, encode_units(units), True) == units    # the stop re-encodes as is


def test_class1_requests_carry_no_data_for_any_item():
    data = bytes.fromhex("03 01 02 15") + bytes.fromhex("01 01 07 18")   # F170 p1 p2; F193..F195
    units = parse_units(0x0C, data, False)
    assert [(u.pn, u.fn) for u in units] == [(1, 170), (2, 170), (1, 193), (1, 194), (1, 195)]
    assert all(u.value is None and u.stop is None for u in units)


@pytest.mark.parametrize("fn,td", [(161, "01 12 26"), (170, "01 12 26"), (177, "12 26"),
                                   (51, "12 26"), (101, "00 00 01 12 26 01 60"),
                                   (89, "00 00 01 12 26 02 30")])
def test_class2_requests_carry_their_time_label_per_pair_by_item_kind(fn, td):
    td = bytes.fromhex(td)
    data = bytes.fromhex("03 01") + encode_dt([fn]) + td + td
    units = parse_units(0x0D, data, False)
    assert [(u.pn, u.fn) for u in units] == [(1, fn), (2, fn)] and units[0].value == units[1].value
    assert all(u.stop is None for u in units)


def test_all_points_da_carries_one_time_label_per_item():
    units = parse_units(0x0D, bytes.fromhex("FF 00 03 14 01 12 26 02 12 26"), False)
    assert [(u.pn, u.fn) for u in units] == [("all", 161), ("all", 162)]
    assert encode_units(units, pack=True) == bytes.fromhex("FF 00 01 14 01 12 26 FF 00 02 14 02 12 26")


def test_td_kinds_follow_the_item_groups():
    assert {TD_KIND[f] for f in (1, 9, 49, 161, 169, 185, 209)} == {TD_DAY}
    assert {TD_KIND[f] for f in (17, 51, 177, 193, 201, 215)} == {TD_MONTH}
    assert {TD_KIND[f] for f in (73, 81, 101, 145, 217)} == {TD_CURVE}
    assert 96 not in TD_KIND and 235 not in TD_KIND          # a reserved slot, a vendor extension


def test_packing_joins_one_group_of_points_and_items_into_one_da_dt():
    units = [Unit(0x0D, fn, pn, {"td": (1, 12, 26)}, False) for pn in (1, 2, 3) for fn in (161, 162)]
    data = encode_units(units, pack=True)
    assert data[:4] == bytes.fromhex("07 01 03 14") and len(data) == 4 + 6 * 3
    assert parse_units(0x0D, data, False) == units
    assert len(encode_units(units)) == 6 * (4 + 3)                  # unpacked: one DA/DT each


def test_a_multi_point_request_packs_one_da_dt_per_group():
    units = request_units(0x0D, [10, 2, 1, 9], [162, 161], {"td": (1, 12, 26)})
    assert [(u.pn, u.fn) for u in units][:3] == [(1, 161), (1, 162), (2, 161)]
    data = encode_units(units, pack=True)
    assert data[:4] == bytes.fromhex("03 01 03 14") and data[16:20] == bytes.fromhex("03 02 03 14")
    assert parse_units(0x0D, data, False) == units


def test_packing_keeps_units_apart_where_one_da_dt_cannot_carry_them():
    td = {"td": (1, 12, 26)}
    cases = [[(1, 161), (9, 161)],                 # points of two groups
             [(1, 161), (1, 169)],                 # items of two groups
             [(1, 162), (1, 161)],                 # items out of order
             [(1, 161), (1, 162), (2, 161)],       # p2 lacks F162
             [(0, 161), (1, 161)]]                 # p0 groups with no point
    for case in cases:
        units = [Unit(0x0D, fn, pn, td, False) for pn, fn in case]
        assert len(blocks(units)) == 2
        assert parse_units(0x0D, encode_units(units, pack=True), False) == units


# --- properties -------------------------------------------------------------------------------
A20 = st.tuples(st.integers(1, 28), st.integers(1, 12), st.integers(0, 99))
A21 = st.tuples(st.integers(1, 12), st.integers(0, 99))
A15 = st.tuples(st.integers(0, 59), st.integers(0, 23), st.integers(1, 28), st.integers(1, 12),
                st.integers(0, 99))
REQUEST_TD = {TD_DAY: A20.map(lambda t: {"td": t}), TD_MONTH: A21.map(lambda t: {"td": t}),
              TD_CURVE: st.fixed_dictionaries({"start": A15, "density": st.sampled_from(
                  [1, 2, 3, 254, 255]), "points": st.integers(0, 255)})}
NUMBER = {"A14": st.integers(0, 10 ** 10 - 1).map(lambda v: v / 10000.0),
          "A11": st.integers(0, 10 ** 8 - 1).map(lambda v: v / 100.0)}


@st.composite
def request_unit_lists(draw):
    out = []
    for _ in range(draw(st.integers(1, 12))):
        fn = draw(st.sampled_from(sorted(TD_KIND)))
        pn = draw(st.integers(0, 40) | st.just("all"))
        out.append(Unit(0x0D, fn, pn, draw(REQUEST_TD[TD_KIND[fn]]), False))
    return out


@st.composite
def reading_answers(draw):
    """AFN0D daily/monthly indication answers (F161..F184) on a few points, sorted as a
    terminal packs them, some repeated per point."""
    out = []
    for pn in sorted(draw(st.sets(st.integers(1, 24), min_size=1, max_size=5))):
        for fn in sorted(draw(st.sets(st.integers(161, 184), min_size=1, max_size=4))):
            m = draw(st.integers(0, 4))
            name, fmt = READING_NAMES[(fn - 161) % 8]
            td = draw(A21) if fn >= 177 else draw(A20)
            out.append(Unit(0x0D, fn, pn, {"td": td, "time": draw(A15), "m": m, name: [
                draw(NUMBER[fmt]) for _ in range(m + 1)]}, True))
    return out


@settings(max_examples=300)
@given(request_unit_lists(), st.booleans())
def test_property_multi_pair_requests_round_trip(units, pack):
    assert parse_units(0x0D, encode_units(units, pack=pack), False) == units


@settings(max_examples=200)
@given(reading_answers())
def test_property_multi_pair_answers_round_trip_packed(units):
    data = encode_units(units, pack=True)
    assert parse_units(0x0D, data, True) == units
    assert len(data) <= len(encode_units(units))


@settings(max_examples=100)
@given(reading_answers(), st.integers(0, 15))
def test_property_multi_pair_frames_round_trip(units, seq):
    from protocols.gdw1376_1 import Frame, encode_frame
    raw = encode_frame(Frame(0x0D, encode_units(units, pack=True), up=True, prm=False, func=8,
                             region="0171", terminal=2082, seq=seq))
    f = decode_frame(raw)
    assert parse_units(f.afn, f.data, f.up) == units and encode_frame(f) == raw


def sizable():
    keys = set(LAYOUTS) | {(0x0D, fn, False) for fn in TD_KIND} | {(0x0C, fn, False) for fn in
                                                                   (1, 129, 170, 248)}
    return sorted((k for k in keys if layout(*k) is not None), key=repr)


@settings(max_examples=600)
@given(st.sampled_from(sizable()), st.binary(max_size=16), st.binary(max_size=80))
def test_property_every_item_parser_never_crashes(key, da, data):
    afn, fn, up = key
    try:
        units = parse_units(afn, da[:2].ljust(2, b"\x01") + encode_dt([fn]) + data, up)
    except ProtocolDecodeError:
        return
    assert all(isinstance(u, Unit) for u in units)


@settings(max_examples=500)
@given(st.sampled_from([0x00, 0x02, 0x04, 0x05, 0x0A, 0x0C, 0x0D, 0x0E, 0x10]), st.booleans(),
       st.binary(max_size=160))
def test_property_any_data_part_parses_or_raises_typed(afn, up, data):
    try:
        units = parse_units(afn, data, up)
    except ProtocolDecodeError:
        return
    assert bool(units) == bool(data) and all(isinstance(u, Unit) for u in units)
    stops = [u for u in units if u.stop is not None]
    assert len(stops) <= 1 and (not stops or units[-1] is stops[0])


def test_curve_answers_size_their_points_by_item():
    assert CURVE_FORMATS[89] == "A7" and CURVE_FORMATS[97] == "A13" and CURVE_FORMATS[105] == "A5"
    td = bytes.fromhex("00 00 01 12 26 01 02")
    (u,) = parse_units(0x0D, bytes.fromhex("01 01 01 0B") + td + bytes.fromhex("05 22 10 22"), True)
    assert u.fn == 89 and u.value["values"] == [220.5, 221.0]
