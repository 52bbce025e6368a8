import pytest

from protocols.dlt645 import di as DI, values
from protocols.errors import DecodeError

REQUIRED = {
    "00010000": "forward_active_total", "00010100": "forward_active_tariff_1",
    "00010400": "forward_active_tariff_4", "00010001": "forward_active_total_last_1",
    "0001000C": "forward_active_total_last_12", "00020000": "reverse_active_total",
    "00020301": "reverse_active_tariff_3_last_1", "05060001": "daily_freeze_time_last_1",
    "0506003E": "daily_freeze_time_last_62", "05060101": "daily_freeze_forward_active_last_1",
    "0506013E": "daily_freeze_forward_active_last_62", "05060201": "daily_freeze_reverse_active_last_1",
    "06100601": "curve_forward_active", "06100300": "curve_active_power",
    "02010100": "voltage_a", "02010300": "voltage_c", "02020200": "current_b",
    "02030000": "active_power_total", "02030100": "active_power_a", "02060000": "power_factor_total",
    "02060300": "power_factor_c", "04000101": "date", "04000102": "time",
    "04000501": "status_word_1", "04000503": "status_word_3", "04000507": "status_word_7",
    "00900200": "remaining_money", "00900201": "overdraft_money", "04001001": "alarm_money_1",
    "04001002": "alarm_money_2", "04001003": "overdraft_money_limit",
    "04001004": "hoarding_money_limit", "04001005": "close_allowed_money",
    "03110000": "power_down_count", "03110001": "power_down_last_1", "1D000001": "trip_last_1",
    "1E000001": "close_last_1", "03300D01": "cover_open_last_1", "03300001": "programming_last_1",
    "03300401": "time_set_last_1", "03350000": "magnetic_count", "03350001": "magnetic_last_1",
}


@pytest.mark.parametrize("text,name", sorted(REQUIRED.items()))
def test_registry_knows_required_items(text, name):
    item = DI.lookup(DI.parse(text))
    assert item is not None and item.name == name


def test_unknown_and_out_of_range_identifiers():
    assert DI.lookup(0x0001000D) is None          # only 12 settlement periods
    assert DI.lookup(0x0506003F) is None          # 62 daily freezes
    assert DI.lookup(0x12345678) is None


def test_blocks():
    assert DI.block_members(DI.parse("0001FF00")) == [0x00010000, 0x00010100, 0x00010200,
                                                      0x00010300, 0x00010400]
    assert len(DI.block_members(DI.parse("000100FF"))) == 13
    assert len(DI.block_members(DI.parse("0001FFFF"))) == 65
    assert DI.block_members(0x02010100) is None


def test_signed_formats_from_the_standard_rule():
    # power XX.XXXX signed: -1.2345 kW is natural 81 23 45 (top bit = sign), low byte first
    assert values.encode("XX.XXXX", -1.2345, signed=True) == bytes([0x45, 0x23, 0x81])
    assert DI.lookup(0x02030000).decode(bytes([0x45, 0x23, 0x81])) == -1.2345
    # combined active energy is signed, forward active is not
    assert DI.lookup(0x00000000).signed and not DI.lookup(0x00010000).signed


def test_units_and_scales():
    v = DI.lookup(0x02010100)
    assert (v.unit, v.size, v.decode(bytes([0x05, 0x22]))) == ("V", 2, 220.5)
    assert DI.lookup(0x00900200).unit == "yuan"
    assert DI.lookup(0x02020100).decode(bytes([0x00, 0x50, 0x01])) == 15.0


def test_time_formats_low_byte_first():
    assert values.decode("YYMMDDWW", bytes([0x00, 0x22, 0x11, 0x26])) == "2026-11-22 w0"
    assert values.decode("hhmmss", bytes([0x05, 0x04, 0x23])) == "23:04:05"
    with pytest.raises(DecodeError):
        values.decode("hhmmss", bytes([0x05, 0x61, 0x23]))
    with pytest.raises(DecodeError):
        values.decode("XXXXXX.XX", bytes([0x0A, 0x00, 0x00, 0x00]))


def test_curve_payload_decodes_gaps_as_none():
    payload = values.encode("YYMMDDhhmm", 1767225600) + values.encode("XXXXXX.XX", 1.5) + b"\xFF" * 4
    name, value, unit = DI.decode_value(0x06100601, payload)
    assert value == {"start": "2026-01-01 00:00", "values": [1.5, None]}
