"""Q/GDW 1376.1: the 24 public sample frames, DA/DT and format golden values, the stream, and
properties (round trips, never a crash on any bytes)."""
import pytest
from hypothesis import given, settings, strategies as st

from protocols.errors import DecodeError as ProtocolDecodeError
from protocols.gdw1376_1 import (NEED_DATA, Deframer, Frame, Garbage, Tp, Unit, decode_frame,
                                 encode_frame, encode_units, parse_units)
from protocols.gdw1376_1 import formats as F
from protocols.gdw1376_1.errors import DecodeError, EncodeError
from protocols.gdw1376_1.units import LAYOUTS, decode_da, decode_dt, encode_da, encode_dt

from tests.conftest import ROOT
from tests.helpers import deframe

# the public sample frames, each with its source file beside it
SAMPLES_PATH = ROOT / "tests" / "protocols" / "vectors" / "gdw1376_1" / "samples.txt"
# PROTOCOLS.md's verified login frame: always here, so the codec is checked even without them
LOGIN_DOC = bytes.fromhex("683200320068C97101220800027800000100E016")


def samples():
    out = {"login": LOGIN_DOC}
    for line in SAMPLES_PATH.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, hexed, source = line.split()
            assert source.endswith("/%s.3761" % name), line
            out[name] = bytes.fromhex(hexed)
    return out


SAMPLES = samples()


def test_all_24_samples_are_here():
    assert len(SAMPLES) == 24 and SAMPLES["login"] == LOGIN_DOC


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_decodes_reencodes_and_its_units_parse(name):
    raw = SAMPLES[name]
    f = decode_frame(raw)
    assert encode_frame(f) == raw
    units = parse_units(f.afn, f.data, f.up)
    assert units and all(isinstance(u, Unit) for u in units)
    if name.startswith(("q", "r")):          # qafn12f25: AFN 12 decimal = 0C, item F25
        assert f.afn == int(name[4:6]) and units[0].fn == int(name.split("f")[-1])
        assert f.tp is not None and f.up == name.startswith("r")


def test_login_heartbeat_logout_fields():
    login = decode_frame(SAMPLES["login"])
    assert (login.up, login.prm, login.func, login.afn, login.seq) == (True, True, 9, 2, 8)
    assert (login.fir, login.fin, login.con, login.region, login.terminal) == (
        True, True, True, "0171", 0x0822)
    assert [u.fn for u in parse_units(2, login.data, True)] == [1]
    assert parse_units(2, decode_frame(SAMPLES["heartBeat"]).data, True)[0].fn == 3
    assert parse_units(2, decode_frame(SAMPLES["loginOut"]).data, True)[0].fn == 2


def test_class1_and_class2_values_from_the_samples():
    f = decode_frame(SAMPLES["rafn12f129"])
    (u,) = parse_units(f.afn, f.data, True)
    assert u.value["time"] == (18, 16, 28, 8, 18) and u.value["m"] == 4
    assert u.value["forward_active"] == [0.01, None, None, None, None]
    assert f.tp == Tp(2, (39, 19, 16, 28), 0)
    f = decode_frame(SAMPLES["rafn13f1"])
    (u,) = parse_units(f.afn, f.data, True)
    assert u.value["td"] == (27, 8, 18) and u.value["forward_active"][0] == 0.01
    (q,) = parse_units(0x0D, decode_frame(SAMPLES["qafn13f17"]).data, False)
    assert q.value == {"td": (7, 18)}
    f = decode_frame(SAMPLES["rafn12f25"])
    (u,) = parse_units(f.afn, f.data, True)
    assert u.value["pf"] == 100.0 and u.value["p"] == 0.0


def test_peer_quirks_are_kept_not_lost():
    """F167 with non-BCD fields and 5 bytes past the standard layout; a confirm padded with
    zeros; an F168 whose tariff count is EE: every byte stays reachable."""
    f = decode_frame(SAMPLES["rafn12f167"])
    units = parse_units(f.afn, f.data, True)
    assert "alarm_kwh" in units[0].value["invalid"] and units[-1].fn == 0
    assert units[-1].value["trailing"] == f.data[-5:]
    f = decode_frame(SAMPLES["nonStandardConfirm"])
    units = parse_units(f.afn, f.data, False)
    assert units[0].fn == 1 and units[-1].value["trailing"] == b"\x00" * 6
    f = decode_frame(SAMPLES["rafn12f168"])
    (u,) = parse_units(f.afn, f.data, True)
    assert u.value["m"] is None and u.value["rest"] == f.data[10:]


def test_da_dt_golden_encodings():
    assert encode_da([1]) == b"\x01\x01" and encode_da([0]) == b"\x00\x00"
    assert encode_da([9, 10]) == b"\x03\x02" and decode_da(3, 2) == [9, 10]
    assert encode_dt([129]) == b"\x01\x10" and encode_dt([167]) == b"\x40\x14"
    assert encode_dt([168]) == b"\x80\x14" and encode_dt([3]) == b"\x04\x00"
    assert decode_dt(0x01, 0x03) == [25]
    with pytest.raises(EncodeError):
        encode_da([1, 9])                 # two groups in one DA
    with pytest.raises(DecodeError):
        decode_dt(0, 1)


def test_formats():
    assert F.encode("A14", 12345.6789) == bytes.fromhex("8967452301")
    assert F.decode("A9", bytes.fromhex("563412")) == 12.3456
    assert F.decode("A9", bytes.fromhex("563492")) == -12.3456
    assert F.decode("A12", bytes.fromhex("010000000000")) == "000000000001"
    assert F.decode("A11", b"\xEE" * 4) is None and F.encode("A7", None) == b"\xEE\xEE"
    with pytest.raises(DecodeError):
        F.decode("A8", b"\x1A\x00")


def test_strict_decode_names_the_field():
    raw = bytearray(SAMPLES["login"])
    raw[3] ^= 0x04
    with pytest.raises(DecodeError) as e:
        decode_frame(bytes(raw))
    assert "length fields differ" in str(e.value)
    raw = bytearray(SAMPLES["login"])
    raw[1] = raw[3] = (raw[1] & 0xFC) | 1            # protocol id 01 (Q/GDW 130)
    with pytest.raises(DecodeError):
        decode_frame(bytes(raw))


# --- stream -----------------------------------------------------------------------------------
def frames_of(chunks):
    return deframe(Deframer(), chunks)


LOGIN = LOGIN_DOC
READ = encode_frame(Frame(0x0C, encode_units([Unit(0x0C, 129, 1, {
    "time": (0, 12, 28, 8, 18), "m": 4, "forward_active": [1.5, 0.5, 0.5, 0.25, 0.25]})]),
    up=True, prm=False, func=8, region="0171", terminal=2082, tp=Tp(2, (39, 19, 16, 28))))


@pytest.mark.parametrize("split", ["whole", "bytewise", "trailing"])
def test_deframer_whole_bytewise_and_trailing(split):
    data = LOGIN + READ
    chunks = {"whole": [data], "bytewise": [bytes([b]) for b in data],
              "trailing": [data + READ[:9]]}[split]
    items = frames_of(chunks)
    assert [i.raw for i in items if isinstance(i, Frame)] == [LOGIN, READ]
    if split == "trailing":
        assert isinstance(items[-1], Garbage) and items[-1].raw == READ[:9]


@pytest.mark.parametrize("noise", [b"\x00\x16\x68", b"\x68\x32\x00\x31\x00\x68",
                                   LOGIN[:-2] + b"\x00\x16", b"\xFE\xFE\x68\x11\x04"])
def test_deframer_skips_noise_and_resyncs(noise):
    items = frames_of([noise + READ + noise[:2] + LOGIN])
    assert [i.raw for i in items if isinstance(i, Frame)] == [READ, LOGIN]
    assert sum(len(i.raw) for i in items) == len(noise) + 2 + len(READ) + len(LOGIN)


def test_deframer_needs_data_for_a_partial_frame():
    d = Deframer()
    d.feed(READ[:20])
    assert d.next() is NEED_DATA


# --- properties -------------------------------------------------------------------------------
@st.composite
def frames(draw):
    up = draw(st.booleans())
    afn = draw(st.sampled_from([0x00, 0x02, 0x04, 0x05, 0x0C, 0x0D, 0x0E, 0x10]))
    acd = up and draw(st.booleans())
    tp = draw(st.none() | st.builds(Tp, st.integers(0, 255), st.tuples(
        st.integers(0, 59), st.integers(0, 59), st.integers(0, 23), st.integers(1, 31)),
        st.integers(0, 255)))
    return Frame(afn, draw(st.binary(max_size=120)), up, draw(st.booleans()),
                 draw(st.integers(0, 15)), draw(st.from_regex(r"\A[0-9]{4}\Z")),
                 draw(st.integers(0, 0xFFFF)), draw(st.integers(0, 127)), draw(st.booleans()),
                 draw(st.integers(0, 15)), draw(st.booleans()), draw(st.booleans()),
                 draw(st.booleans()), not up and draw(st.booleans()),
                 not up and draw(st.booleans()), acd,
                 draw(st.binary(min_size=16, max_size=16)) if not up and afn in (4, 5, 0x10)
                 else None, (draw(st.integers(0, 255)), draw(st.integers(0, 255))) if acd else None,
                 tp)


@settings(max_examples=300)
@given(frames())
def test_property_frame_round_trip(f):
    raw = encode_frame(f)
    g = decode_frame(raw)
    assert g == f and encode_frame(g) == raw


values = {"A14": st.none() | st.integers(0, 10 ** 10 - 1).map(lambda v: v / 10000.0),
          "A11": st.none() | st.integers(0, 10 ** 8 - 1).map(lambda v: v / 100.0)}


@settings(max_examples=200)
@given(st.integers(0, 6), st.data())
def test_property_energy_units_round_trip(m, data):
    value = {"td": (data.draw(st.integers(1, 28)), data.draw(st.integers(1, 12)),
                    data.draw(st.integers(0, 99))),
             "time": (0, 1, 2, 3, 26), "m": m}
    for name, fmt in (("forward_active", "A14"), ("forward_reactive", "A11"),
                      ("q1_reactive", "A11"), ("q4_reactive", "A11")):
        value[name] = [data.draw(values[fmt]) for _ in range(m + 1)]
    unit = Unit(0x0D, 1, data.draw(st.integers(1, 2040)), value, True)
    assert parse_units(0x0D, encode_units([unit]), True) == [unit]


@settings(max_examples=500)
@given(st.binary(max_size=200))
def test_property_decode_never_crashes(data):
    try:
        f = decode_frame(data)
        parse_units(f.afn, f.data, f.up)
    except ProtocolDecodeError:
        pass


@settings(max_examples=500)
@given(st.sampled_from(sorted(LAYOUTS, key=repr)), st.binary(max_size=120))
def test_property_every_unit_parser_never_crashes(key, data):
    afn, fn, up = key
    try:
        parse_units(afn, b"\x01\x01" + encode_dt([fn]) + data, up)
    except ProtocolDecodeError:
        pass


@settings(max_examples=300)
@given(st.lists(st.one_of(st.binary(max_size=40), st.just(LOGIN), st.just(READ)), max_size=8))
def test_property_deframer_never_crashes_and_keeps_every_byte(chunks):
    items = frames_of(chunks)
    assert sum(len(i.raw) for i in items) == sum(len(c) for c in chunks)


def test_archive_control_and_event_units_round_trip():
    entry = {"index": 1, "point": 1, "port_baud": (3 << 5) | 2, "protocol": 30,
             "addr": "000000000101", "tariffs": 4, "digits": 0x62, "collector": None,
             "user_class": 0x11, **{"pw%d" % k: 0 for k in range(6)}}
    units = [Unit(0x04, 10, 0, {"items": [entry, dict(entry, index=2, addr="000000000102")]},
                  False), Unit(0x05, 1, 3, {"limit_alarm": 0x21}, False),
             Unit(0x05, 33, 0, None, False)]
    data = encode_units(units)
    assert len(data) == 4 + 2 + 2 * 27 + 4 + 1 + 4
    assert parse_units(0x04, data[:4 + 2 + 54], False) == units[:1]
    events = Unit(0x0E, 1, 0, {"ec1": 3, "ec2": 0, "pm": 1, "pn": 3, "events": [
        {"erc": 14, "data": b"\x01\x02"}, {"erc": 1, "data": b""}]}, True)
    assert parse_units(0x0E, encode_units([events]), True) == [events]


@settings(max_examples=200)
@given(st.lists(values["A11"], max_size=96), st.sampled_from([1, 2, 3, 254, 255]), st.data())
def test_property_curve_and_month_units_round_trip(points, density, data):
    start = (data.draw(st.integers(0, 59)), data.draw(st.integers(0, 23)),
             data.draw(st.integers(1, 28)), data.draw(st.integers(1, 12)), 26)
    pn = data.draw(st.integers(1, 2040))
    up = Unit(0x0D, 101, pn, {"start": start, "density": density, "values": points}, True)
    down = Unit(0x0D, 101, pn, {"start": start, "density": density, "points": len(points)}, False)
    month = Unit(0x0D, 177, pn, {"td": start[3:], "time": start, "m": 0,
                                 "forward_active": [data.draw(values["A14"])]}, True)
    assert parse_units(0x0D, encode_units([up, month]), True) == [up, month]
    assert parse_units(0x0D, encode_units([down]), False) == [down]
    assert len(encode_units([down])) == 4 + 7


def test_time_label_names_its_send_time_and_goes_stale_after_its_delay():
    from protocols.civil import from_civil
    from protocols.gdw1376_1 import Tp
    sent = from_civil(2026, 3, 1, 0, 0, 30)
    tp = Tp.at(7, sent, 2)
    assert tp.time == (30, 0, 0, 1) and tp.sent_at(sent + 60) == sent
    assert not tp.stale(sent + 120) and tp.stale(sent + 121)
    assert Tp(7, (30, 0, 0, 28), 2).sent_at(sent) == from_civil(2026, 2, 28, 0, 0, 30)
    assert Tp(7, (0, 0, 0, 31), 5).stale(from_civil(2026, 4, 1, 0, 0))   # 31 March: long ago
    assert not Tp(7, (0, 0, 0, 31), 0).stale(sent)                       # delay 0: no limit
    assert Tp(7, (0, 0, 0, 30), 5).sent_at(from_civil(2026, 2, 27)) == from_civil(2026, 1, 30)


def test_a_label_that_lets_a_frame_change_state_has_a_delay_a_day_and_is_fresh():
    from protocols.civil import from_civil
    from protocols.gdw1376_1 import Tp
    now = from_civil(2026, 3, 1, 12, 0, 0)
    assert Tp.at(7, now - 60, 5).problem(now) is None
    assert "without an allowed delay" in Tp.at(7, now, 0).problem(now)
    assert "stale" in Tp.at(7, now - 301, 5).problem(now)
    assert "ahead of the terminal's clock" in Tp.at(7, now + 3600, 5).problem(now)
    assert Tp.at(7, now + 200, 5).problem(now) is None                  # within the skew
    assert "names no date" in Tp(7, (0, 0, 12, 45), 5).problem(now)
    # just after midnight a label from the evening before is found in the previous month
    assert Tp.at(7, now - 12 * 3600 - 60, 240).problem(from_civil(2026, 3, 1, 0, 1)) is None


def test_afn0d_f27_is_the_93_bytes_of_the_day_voltage_statistics_after_td():
    # gdgly/NUC97X_JS Terminal_SaveRam.h ADDR_AFN0DF27_SOUR: offsets 0..64 minutes, max/min and
    # means, 66..90 the three rates per phase (A.25), (66+27) bytes per point
    from protocols.gdw1376_1.catalog import VOLTAGE_STATS, layout
    from protocols.gdw1376_1.layouts import field_size
    assert sum(field_size(f) for _, f in VOLTAGE_STATS.fields) == 66 + 27
    names = [n for n, _ in VOLTAGE_STATS.fields]
    assert sum(field_size(f) for _, f in VOLTAGE_STATS.fields[:names.index("a_max_v")]) == 30
    assert sum(field_size(f) for _, f in VOLTAGE_STATS.fields[:names.index("a_over_rate")]) == 66
    assert layout(0x0D, 27, True).inner is VOLTAGE_STATS
