"""gridedge's AFN0D F221 (the area's day of line loss) and F222 (the day's missed-reading list):
hand-built bytes from the definition in protocols/gdw1376_1/area_ext.py, the frame codec sizing
them, round trips, typed errors only on any bytes, and EncodeError on values that do not fit."""
import pytest
from hypothesis import given, settings, strategies as st

from protocols.errors import ProtocolError
from protocols.gdw1376_1 import Unit, encode_units, parse_units
from protocols.gdw1376_1.area_ext import (DAILY_LINE_LOSS, EVIDENCE, LINE_LOSS_FN, MISSED_FN,
                                          MISSED_LIST, REASONS, STATUSES)
from protocols.gdw1376_1.catalog import TD_DAY, TD_KIND
from protocols.gdw1376_1.errors import DecodeError, EncodeError
from protocols.gdw1376_1.units import AFN_CLASS2

F221 = bytes.fromhex(
    "04 12 26"              # Td_d A.20: DD MM YY = 2026-12-04
    "01"                    # status 1: complete
    "78 56 34 12 00"        # supplied A.14 = 1234.5678 kWh (BCD 0012345678, low byte first)
    "00 25 00 11 00"        # sold A.14 = 1100.25 kWh (0011002500)
    "80 08 01"              # loss rate A.25 = +10.880 % (010880, sign bit clear)
    "0C 00"                 # customers 12
    "01 00"                 # missing 1
    "03"                    # reasons: bit0 above_threshold, bit1 step_change
    "02"                    # 2 candidates
    "03 00 05"              # point 3: bit0 consumption_fell, bit2 cover_opened
    "2C 01 82")             # point 300: bit1 consumption_stopped, bit7 something else
F221_VALUE = {"td": (4, 12, 26), "status": "complete", "supplied_kwh": 1234.5678,
              "sold_kwh": 1100.25, "rate_pct": 10.88, "customers": 12, "missing": 1,
              "reasons": ["above_threshold", "step_change"],
              "candidates": [{"point": 3, "evidence": ["consumption_fell", "cover_opened"]},
                             {"point": 300, "evidence": ["consumption_stopped", "other"]}]}
F222 = bytes.fromhex(
    "04 12 26"              # Td_d 2026-12-04
    "0A 00"                 # n = 10 points: bitmaps of ceil(10 / 8) = 2 bytes
    "01 03"                 # missed: byte 0 bit 0 = p1; byte 1 bits 0, 1 = p9, p10
    "08 00")                # wrong: byte 0 bit 3 = p4
F222_VALUE = {"td": (4, 12, 26), "points": 10, "missed": [1, 9, 10], "wrong": [4]}


def test_hand_built_f221_decodes_to_its_fields_and_encodes_back():
    assert DAILY_LINE_LOSS.parse(F221, 0) == (F221_VALUE, len(F221))
    assert DAILY_LINE_LOSS.encode(F221_VALUE) == F221


def test_hand_built_f222_decodes_to_its_fields_and_encodes_back():
    assert MISSED_LIST.parse(F222, 0) == (F222_VALUE, len(F222))
    assert MISSED_LIST.encode(F222_VALUE) == F222


def test_a_day_not_computed_is_status_0_with_ee_and_a_negative_rate_has_the_sign_bit():
    raw = DAILY_LINE_LOSS.encode({"td": (1, 1, 27)})
    assert raw == bytes.fromhex("01 01 27 00") + b"\xEE" * 13 + bytes(6)
    assert DAILY_LINE_LOSS.parse(raw, 0)[0]["status"] == "not_computed"
    neg = DAILY_LINE_LOSS.encode(dict(F221_VALUE, rate_pct=-2.5))
    assert neg[14:17] == bytes.fromhex("00 25 80")          # 002500, D7 of the top byte: minus
    assert DAILY_LINE_LOSS.parse(neg, 0)[0]["rate_pct"] == -2.5


def test_the_frame_codec_sizes_both_items_as_p0_daily_answers_and_requests():
    assert TD_KIND[LINE_LOSS_FN] == TD_KIND[MISSED_FN] == TD_DAY
    request = encode_units([Unit(AFN_CLASS2, LINE_LOSS_FN, 0, {"td": (4, 12, 26)}, False),
                            Unit(AFN_CLASS2, MISSED_FN, 0, {"td": (4, 12, 26)}, False)])
    # DA p0 = 00 00; DT F221 = 1 << (220 % 8), 220 // 8 = 10 1B; F222 = 20 1B; each its Td_d
    assert request == bytes.fromhex("00 00 10 1B 04 12 26 00 00 20 1B 04 12 26")
    assert [(u.pn, u.fn, u.value) for u in parse_units(AFN_CLASS2, request, False)] == [
        (0, 221, {"td": (4, 12, 26)}), (0, 222, {"td": (4, 12, 26)})]
    answer = bytes.fromhex("00 00 10 1B") + F221 + bytes.fromhex("00 00 20 1B") + F222
    units = parse_units(AFN_CLASS2, answer, True)
    assert [(u.fn, u.value, u.stop) for u in units] == [(221, F221_VALUE, None),
                                                         (222, F222_VALUE, None)]
    assert encode_units(units) == answer


NUMBER = st.one_of(st.none(), st.integers(0, 9999999999).map(lambda n: n / 1e4))
RATE = st.one_of(st.none(), st.integers(-799999, 799999).map(lambda n: n / 1e3))
TD = st.one_of(st.none(), st.tuples(st.integers(1, 28), st.integers(1, 12), st.integers(0, 99)))
LINE_LOSS = st.builds(
    lambda td, status, s, so, r, c, m, reasons, cands: {
        "td": td, "status": status, "supplied_kwh": s, "sold_kwh": so, "rate_pct": r,
        "customers": c, "missing": m, "reasons": [x for x in REASONS if x in reasons],
        "candidates": cands},
    TD, st.sampled_from(STATUSES), NUMBER, NUMBER, RATE, st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFF), st.sets(st.sampled_from(REASONS)),
    st.lists(st.builds(lambda p, ev, other: {"point": p, "evidence": [
        x for x in EVIDENCE if x in ev] + (["other"] if other else [])},
        st.integers(1, 2040), st.sets(st.sampled_from(EVIDENCE)), st.booleans()), max_size=40))


@st.composite
def missed_lists(draw):
    n = draw(st.integers(0, 2040))
    pts = st.lists(st.integers(1, n), unique=True, max_size=60) if n else st.just([])
    return {"td": draw(TD), "points": n, "missed": sorted(draw(pts)), "wrong": sorted(draw(pts))}


@settings(max_examples=200, deadline=None)
@given(LINE_LOSS)
def test_every_line_loss_day_round_trips(value):
    raw = DAILY_LINE_LOSS.encode(value)
    assert DAILY_LINE_LOSS.parse(raw, 0) == (value, len(raw))


@settings(max_examples=200, deadline=None)
@given(missed_lists())
def test_every_missed_list_round_trips(value):
    raw = MISSED_LIST.encode(value)
    assert len(raw) == 5 + 2 * ((value["points"] + 7) // 8)
    assert MISSED_LIST.parse(raw, 0) == (value, len(raw))


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=120), st.sampled_from([DAILY_LINE_LOSS, MISSED_LIST]))
def test_no_byte_string_crashes_either_layout(raw, layout):
    try:
        value, end = layout.parse(raw, 0)
    except ProtocolError as exc:
        assert isinstance(exc, DecodeError)
        return
    assert end <= len(raw)
    layout.encode(value)                   # what was read can be said again


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=80))
def test_any_answer_data_part_parses_or_raises_typed(raw):
    for fn in (LINE_LOSS_FN, MISSED_FN):
        try:
            parse_units(AFN_CLASS2, bytes.fromhex("00 00") + bytes([1 << (fn - 1) % 8, 27]) + raw,
                        True)
        except ProtocolError as exc:
            assert isinstance(exc, DecodeError)


def test_a_status_byte_beyond_the_list_and_too_many_points_are_decode_errors():
    with pytest.raises(DecodeError, match="status"):
        DAILY_LINE_LOSS.parse(F221[:3] + b"\x04" + F221[4:], 0)
    with pytest.raises(DecodeError, match="points"):
        MISSED_LIST.parse(bytes.fromhex("04 12 26 F9 07") + bytes(510), 0)     # 2041 points
    with pytest.raises(DecodeError, match="candidate"):
        DAILY_LINE_LOSS.parse(F221[:-2], 0)


@pytest.mark.parametrize("change", [
    {"status": "computed"}, {"supplied_kwh": 1e6}, {"sold_kwh": -1.0}, {"rate_pct": 800.0},
    {"rate_pct": float("nan")}, {"supplied_kwh": "12"}, {"customers": 65536},
    {"missing": -1}, {"customers": 1.5}, {"reasons": ["theft"]}, {"td": (100, 12, 26)},
    {"candidates": [{"point": 0, "evidence": []}]},
    {"candidates": [{"point": 2041, "evidence": []}]},
    {"candidates": [{"point": 1, "evidence": []}] * 256}])
def test_line_loss_values_that_do_not_fit_are_encode_errors(change):
    with pytest.raises(EncodeError):
        DAILY_LINE_LOSS.encode(dict(F221_VALUE, **change))


@pytest.mark.parametrize("change", [
    {"points": 2041}, {"points": -1}, {"points": None}, {"missed": [11]}, {"wrong": [0]},
    {"missed": ["1"]}, {"td": (4, 12)}])
def test_missed_list_values_that_do_not_fit_are_encode_errors(change):
    with pytest.raises(EncodeError):
        MISSED_LIST.encode(dict(F222_VALUE, **change))
