"""Q/GDW 1376.1 terminal parameters (AFN04/0A F1, F3, F33, F59, F65-F68), clock set (AFN05 F31) and
version (AFN09 F1): golden data parts decode and encode back to their bytes, every layout
round-trips, and no byte string makes the parser fail other than with a typed error."""
import pytest
from hypothesis import given, settings, strategies as st

from protocols.errors import ProtocolError
from protocols.gdw1376_1 import Unit, encode_units, parse_units
from protocols.gdw1376_1.errors import EncodeError
from protocols.gdw1376_1.params import AFN_VERSION, PERIOD_UNITS, a1_of_civil
from protocols.civil import from_civil, to_civil

from tests.conftest import ROOT, load_toml

VECTORS = load_toml(ROOT / "tests/protocols/vectors/gdw1376_1/params.toml")["unit"]


def plain(v):
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    return [plain(x) for x in v] if isinstance(v, (list, tuple)) else v


@pytest.mark.parametrize("vec", VECTORS, ids=[v["name"] for v in VECTORS])
def test_golden_units_decode_to_their_fields_and_encode_back_to_their_bytes(vec):
    data = bytes.fromhex(vec["hex"])
    (u,) = parse_units(vec["afn"], data, vec["up"])
    assert {k: plain(u.value[k]) for k in vec["values"]} == vec["values"]
    assert encode_units([u]) == data


def test_the_class_2_task_names_f161_of_all_points():
    vec = next(v for v in VECTORS if v["name"] == "afn04_f66_class2_task_daily_f161")
    (u,) = parse_units(0x04, bytes.fromhex(vec["hex"]), False)
    assert u.pn == 1 and u.fn == 66 and u.value["items"] == [(["all"], [161])]


def test_the_weekday_of_a_clock_set_is_the_calendar_s():
    assert a1_of_civil(to_civil(from_civil(2015, 3, 12, 10, 30, 55))) == (
        (55, 30, 10, 12, 3, 15), 4)                     # the rgm capture's Thursday
    assert a1_of_civil(to_civil(from_civil(2026, 1, 4)))[1] == 7     # a Sunday


def test_queries_carry_no_data_and_a_version_request_neither():
    for afn, fn in ((0x0A, 1), (0x0A, 3), (0x0A, 33), (0x0A, 66), (AFN_VERSION, 1)):
        (u,) = parse_units(afn, bytes([0, 0, 1 << ((fn - 1) % 8), (fn - 1) // 8]), False)
        assert u.fn == fn and u.value is None


def test_out_of_range_values_are_typed_encode_errors():
    for fn, value in ((1, {"timeout_s": 5000}), (3, {"ip": "300.1.1.1"}),
                      (3, {"apn": "x" * 17}), (66, {"unit": "week"}), (59, {"flying": 12.0}),
                      (33, {"ports": [{"port": 1, "spans": [((0, 0), (0, 0))] * 25}]})):
        with pytest.raises(EncodeError):
            encode_units([Unit(0x04, fn, 0, value, False)])


BCD2 = st.tuples(st.integers(0, 59), st.integers(0, 23))
A1 = st.tuples(st.integers(0, 59), st.integers(0, 59), st.integers(0, 23), st.integers(1, 28),
               st.integers(1, 12), st.integers(0, 99))
IP = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
ITEMS = st.lists(st.tuples(st.lists(st.integers(1, 8), min_size=1, max_size=3, unique=True)
                           .map(sorted), st.lists(st.integers(1, 8), min_size=1, max_size=3,
                                                  unique=True).map(sorted)), max_size=4)
VALUES = {
    1: st.fixed_dictionaries({"rts_20ms": st.integers(0, 255), "send_delay_min": st.integers(0, 255),
                              "timeout_s": st.integers(0, 4095), "retries": st.integers(0, 3),
                              "con_flags": st.integers(0, 255),
                              "heartbeat_min": st.integers(0, 255)}),
    3: st.fixed_dictionaries({"ip": IP, "port": st.integers(0, 65535), "backup_ip": IP,
                              "backup_port": st.integers(0, 65535),
                              "apn": st.text("abcdefgh.-0123456789", max_size=16)}),
    33: st.fixed_dictionaries({"ports": st.lists(st.fixed_dictionaries({
        "port": st.integers(1, 31), "control": st.integers(0, 65535),
        "days": st.integers(0, 2 ** 32 - 1), "read_time": BCD2, "interval_min": st.integers(0, 60),
        "clock_time": st.tuples(st.integers(0, 59), st.integers(0, 23), st.integers(0, 31)),
        "spans": st.lists(st.tuples(BCD2, BCD2), max_size=3)}), max_size=3)}),
    66: st.fixed_dictionaries({"unit": st.sampled_from(PERIOD_UNITS), "period": st.integers(0, 63),
                               "base": A1, "ratio": st.integers(0, 255), "items": ITEMS}),
    68: st.fixed_dictionaries({"switch": st.sampled_from([0x55, 0xAA])}),
    59: st.fixed_dictionaries({"over_difference": st.integers(0, 99).map(lambda t: t / 10.0),
                               "flying": st.integers(0, 99).map(lambda t: t / 10.0),
                               "stopped_15min": st.integers(0, 255),
                               "clock_s": st.integers(0, 65535)}),
}


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(VALUES)).flatmap(lambda fn: st.tuples(st.just(fn), VALUES[fn])))
def test_every_parameter_round_trips(case):
    fn, value = case
    data = encode_units([Unit(0x04, fn, 1 if fn in (66, 68) else 0, value, False)])
    (u,) = parse_units(0x04, data, False)
    assert plain(u.value) == plain(value)
    (q,) = parse_units(0x0A, data, True)            # a query's answer has the same layout
    assert plain(q.value) == plain(value)


@settings(max_examples=100, deadline=None)
@given(A1, st.integers(0, 7))
def test_clock_set_round_trips(t, weekday):
    data = encode_units([Unit(0x05, 31, 0, {"time": t, "weekday": weekday}, False)])
    (u,) = parse_units(0x05, data, False)
    assert u.value == {"time": t, "weekday": weekday}


@settings(max_examples=100, deadline=None)
@given(st.fixed_dictionaries({"vendor": st.text("ABCXYZ", max_size=4),
                              "device": st.text("0123456789", max_size=8),
                              "software": st.text("0.9", max_size=4),
                              "software_date": st.tuples(st.integers(1, 28), st.integers(1, 12),
                                                         st.integers(0, 99)),
                              "capacity": st.text("ABC-", max_size=11),
                              "protocol": st.text("1376", max_size=4),
                              "hardware": st.text("HW01", max_size=4),
                              "hardware_date": st.tuples(st.integers(1, 28), st.integers(1, 12),
                                                         st.integers(0, 99))}))
def test_version_round_trips(value):
    data = encode_units([Unit(AFN_VERSION, 1, 0, value, True)])
    (u,) = parse_units(AFN_VERSION, data, True)
    assert plain(u.value) == plain(value)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([(0x04, 1), (0x04, 3), (0x04, 33), (0x04, 65), (0x04, 66), (0x04, 68),
                        (0x05, 31), (AFN_VERSION, 1), (0x0A, 33)]), st.booleans(),
       st.binary(max_size=80))
def test_no_bytes_crash_the_parser(item, up, body):
    afn, fn = item
    data = bytes([0, 0, 1 << ((fn - 1) % 8), (fn - 1) // 8]) + body
    try:
        units = parse_units(afn, data, up)
    except ProtocolError:
        return
    assert units and units[0].fn == fn
