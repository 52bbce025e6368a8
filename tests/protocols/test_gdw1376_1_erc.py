"""Q/GDW 1376.1 event records (AFN0E): each standard ERC's layout, the vendor codes 64/65 still
decoded, round trips of typed records, and no crash on any bytes."""
import pytest
from hypothesis import given, settings, strategies as st

from protocols.errors import DecodeError as ProtocolDecodeError
from protocols.errors import EncodeError as ProtocolEncodeError
from protocols.gdw1376_1 import Unit, encode_units, parse_units
from protocols.gdw1376_1.erc import (RECORDS, SIZES, VENDOR_CODES, Erc3ParameterChange,
                                     Erc13MeterFault, Erc14PowerOnOff, Erc33StatusWordChange,
                                     Erc35UnknownMeter, Erc37CoverOpen, Erc41ClockSet,
                                     UnknownEvent, decode_event, entry, records)

STANDARD = (1, 3, 12, 13, 14, 24, 27, 28, 29, 30, 31, 33, 35, 37, 38, 40, 41)
T = "30 08 02 12 26"                      # A.15 08:30 on 2 December 2026 (mm hh DD MM YY)

# Le of each fixed record, as the terminal firmware writes them (gdgly/NUC97X_JS
# Terminal_AFN0E_Event.c: p8[1] = Le per ERC) and XL3761AFNE.c reads them
LENGTHS = {1: 14, 12: 7, 13: 8, 14: 10, 24: 14, 27: 17, 28: 18, 29: 18, 30: 13, 31: 21, 33: 35, 37: 70,
           38: 70, 40: 15, 41: 14,
           9: 28, 10: 28, 11: 24, 17: 27}     # ERC9_Event_Write, ERC10_Event_Write, ERC11_Event, ERC17_Event


def test_every_code_the_issue_names_has_a_record_and_64_65_are_vendor():
    assert set(STANDARD) <= set(RECORDS) and VENDOR_CODES == (64, 65)
    assert not any(RECORDS[e].vendor for e in STANDARD)


@pytest.mark.parametrize("erc", sorted(LENGTHS))
def test_fixed_records_have_the_standard_length(erc):
    assert sum(SIZES.get(f) or _size(f) for _, f in RECORDS[erc].fields) == LENGTHS[erc]


def _size(fmt):
    from protocols.gdw1376_1.layouts import field_size
    return field_size(fmt)


def test_erc14_both_lengths():
    std = decode_event(14, bytes.fromhex("00 23 01 12 26 05 23 01 12 26"))
    assert (std.attribute, std.off_at, std.on_at) == (None, (0, 23, 1, 12, 26), (5, 23, 1, 12, 26))
    new = decode_event(14, bytes.fromhex("01 00 23 01 12 26 EE EE EE EE EE"))
    assert new.attribute == 1 and new.on_at is None                 # still off: end unknown
    for rec in (std, new):
        assert decode_event(14, rec.encode()) == rec
    assert len(Erc14PowerOnOff(off_at=(0, 23, 1, 12, 26), on_at=None).encode()) == 10
    # a provincial Le 19 (three phase currents after the times: turtlerrrrr/protocol376.1
    # rgm_event.xml "stoppingPowerEvent") is the standard record plus surplus
    long = decode_event(14, bytes.fromhex("00 23 01 12 26 05 23 01 12 26") + bytes(9))
    assert long.attribute is None and long.on_at == (5, 23, 1, 12, 26) and long.extra == bytes(9)


def test_point_word_carries_the_point_and_whether_the_condition_began():
    rec = decode_event(13, bytes.fromhex(T + " 05 80 08"))
    assert isinstance(rec, Erc13MeterFault)
    assert (rec.pn, rec.began, rec.flags) == (5, True, 0x08)            # power-down count changed
    ended = decode_event(12, bytes.fromhex(T + " 05 00"))
    assert (ended.pn, ended.began) == (5, False)


def test_erc27_to_31_values():
    rec = decode_event(27, bytes.fromhex(T + " 01 80 00 50 34 12 00 00 25 34 12 00"))
    assert (rec.before, rec.after) == (1234.5, 1234.25)
    rec = decode_event(28, bytes.fromhex(T + " 01 80 00 50 34 12 00 00 25 34 12 00 15"))
    assert rec.threshold == 1.5
    rec = decode_event(30, bytes.fromhex(T + " 02 80 00 50 34 12 00 04"))
    assert rec.reading == 1234.5 and rec.threshold_15min == 4
    rec = decode_event(31, bytes.fromhex(T + " 02 80 00 07 02 12 26 00 50 34 12 00 00 10 00 00"))
    assert rec.last_ok_at == (0, 7, 2, 12, 26) and rec.forward_reactive == 10.0


def test_erc24_voltage_out_of_limit():
    # layout: NUC97X ERC24_Event (Le 14) and XL3761 geterc24 (flags D0 phase A, D7..D6 10 =
    # under the lower-lower limit; Ua, Ub, Uc BCD xxx.x low byte first)
    rec = decode_event(24, bytes.fromhex(T + " 03 80 81 53 18 EE EE EE EE"))
    assert (rec.pn, rec.began, rec.flags, rec.ua, rec.ub, rec.uc) == (3, True, 0x81, 185.3,
                                                                     None, None)
    assert rec.encode() == bytes.fromhex(T + " 03 80 81 53 18 EE EE EE EE")


def test_erc3_lists_the_units_set():
    rec = decode_event(3, bytes.fromhex(T + " 02 00 00 02 01 01 01 02 01"))     # F10 p0, F10 p1
    assert isinstance(rec, Erc3ParameterChange) and rec.msa == 2
    assert rec.units == [([0], [10]), ([1], [10])]
    assert rec.encode() == bytes.fromhex(T + " 02 00 00 02 01 01 01 02 01")


def test_erc33_status_words():
    changes = "00 00 00 00 10 00 00 00 00 00 00 00 00 00"               # word 3 bit 4: relay
    words = "00 00 00 00 10 00 00 00 00 00 00 00 00 00"
    rec = decode_event(33, bytes.fromhex(T + " 03 00 " + changes + " " + words))
    assert isinstance(rec, Erc33StatusWordChange)
    assert rec.pn == 3 and rec.change3 == 0x10 and rec.word3 == 0x10 and rec.word1 == 0


def test_erc35_unknown_meters():
    data = bytes.fromhex(T + " 1F 02 01 00 00 00 00 00 2A 01 02 00 00 00 00 00 4F 00")
    rec = decode_event(35, data)
    assert isinstance(rec, Erc35UnknownMeter) and rec.port == 31
    assert rec.meters == [{"addr": "000000000001", "phase_quality": 0x2A, "protocol": 1},
                          {"addr": "000000000002", "phase_quality": 0x4F, "protocol": 0}]
    assert rec.encode() == data


def test_erc37_cover_open_and_erc41_clock_set():
    snapshot = " ".join(["00 50 34 12"] * 12)
    rec = decode_event(37, bytes.fromhex(T + " 07 00 12 00 00 00 10 08 02 12 26 00 20 08 02 12 26 "
                                         + snapshot))
    assert isinstance(rec, Erc37CoverOpen) and rec.count == 12
    assert rec.start == (0, 10, 8, 2, 12, 26) and rec.after_q4_reactive == 123450.0
    rec = decode_event(41, bytes.fromhex("07 00 00 00 08 02 12 26 30 00 08 02 32 26"))
    assert isinstance(rec, Erc41ClockSet) and rec.before == (0, 0, 8, 2, 12, 26)
    assert rec.after == (30, 0, 8, 2, 12, 26)                   # weekday bits in the month byte


def test_vendor_codes_still_decode():
    data = bytes.fromhex("03 00 " + T + " 30 09 02 12 26")
    rec = decode_event(64, data)
    assert rec.vendor and rec.pn == 3 and rec.end == (30, 9, 2, 12, 26)
    rec = decode_event(65, bytes.fromhex("03 00 " + T + " 02 00"))
    assert rec.vendor and rec.code == 2


def test_short_records_are_typed_errors_and_surplus_is_kept():
    with pytest.raises(ProtocolDecodeError):
        decode_event(27, bytes.fromhex(T + " 01 80 00 50"))
    rec = decode_event(12, bytes.fromhex(T + " 05 80 AA BB"))
    assert rec.extra == b"\xAA\xBB" and rec.encode().endswith(b"\xAA\xBB")
    assert decode_event(99, b"\x01") == UnknownEvent(99, b"\x01")


def test_an_afn0e_answer_round_trips_typed_records():
    recs = [Erc14PowerOnOff(off_at=(0, 23, 1, 12, 26), on_at=(5, 23, 1, 12, 26)),
            Erc41ClockSet(pn=1, before=(0, 0, 8, 2, 12, 26), after=(1, 0, 8, 2, 12, 26)),
            Erc13MeterFault(at=(30, 8, 2, 12, 26), pn=2, began=True, flags=8)]
    unit = Unit(0x0E, 1, 0, {"ec1": 3, "ec2": 0, "pm": 0, "pn": 3,
                             "events": [entry(r) for r in recs]}, True)
    (got,) = parse_units(0x0E, encode_units([unit]), True)
    assert [r for _, r in records(got.value)] == recs


def test_bad_values_are_refused_on_encode():
    with pytest.raises(ProtocolEncodeError):
        Erc13MeterFault(at=(30, 8, 2, 12, 26), pn=5000, flags=0).encode()
    with pytest.raises(TypeError):
        Erc13MeterFault(nope=1)


# --- properties -------------------------------------------------------------------------------
A15 = st.tuples(st.integers(0, 59), st.integers(0, 23), st.integers(1, 28), st.integers(1, 12),
                st.integers(0, 99))
A1 = st.tuples(st.integers(0, 59), st.integers(0, 59), st.integers(0, 23), st.integers(1, 28),
               st.integers(1, 12), st.integers(0, 99))
FORMATS = {"A15": A15, "A1": A1, "u8": st.integers(0, 255), "u16": st.integers(0, 0xFFFF),
           "A14": st.integers(0, 10 ** 10 - 1).map(lambda v: v / 10000.0),
           "A11": st.integers(0, 10 ** 8 - 1).map(lambda v: v / 100.0),
           "A22": st.integers(0, 99).map(lambda v: v / 10.0),
           "A7": st.integers(0, 9999).map(lambda v: v / 10.0),
           "A12": st.integers(0, 10 ** 12 - 1).map(lambda v: "%012d" % v),
           "ascii4": st.text("0123456789.V", min_size=4, max_size=4),
           "count3": st.integers(0, 999999),
           "A5": st.integers(-7999, 7999).map(lambda v: v / 10.0),
           "A25": st.integers(-799999, 799999).map(lambda v: v / 1000.0)}


@st.composite
def typed_records(draw):
    cls = RECORDS[draw(st.sampled_from(sorted(RECORDS)))]
    values = {}
    for name, fmt in cls.fields:
        if fmt == "point":
            values["pn"], values["began"] = draw(st.integers(0, 4095)), draw(st.booleans())
        else:
            values[name] = draw(st.none() | FORMATS[fmt]) if fmt.startswith("A") else draw(
                FORMATS[fmt])
    if cls is Erc3ParameterChange:
        values["units"] = draw(st.lists(st.tuples(st.just([1]), st.just([10])), max_size=3))
    if cls is Erc35UnknownMeter:
        values["meters"] = draw(st.lists(st.fixed_dictionaries({
            "addr": FORMATS["A12"], "phase_quality": FORMATS["u8"], "protocol": FORMATS["u8"]}),
            max_size=4))
    if cls is Erc14PowerOnOff:
        values["attribute"] = draw(st.none() | FORMATS["u8"])
    return cls(**values)


@settings(max_examples=400)
@given(typed_records())
def test_property_every_record_round_trips(rec):
    e = entry(rec)
    assert decode_event(e["erc"], e["data"]) == rec


@settings(max_examples=600)
@given(st.sampled_from(sorted(RECORDS) + [2, 99]), st.binary(max_size=90))
def test_property_every_record_decoder_never_crashes(erc, data):
    try:
        rec = decode_event(erc, data)
    except ProtocolDecodeError:
        return
    assert rec.erc == erc and rec.encode() is not None
