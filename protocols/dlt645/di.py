"""DL/T 645-2007 data identifiers (DI3 DI2 DI1 DI0 as a 32-bit int): name, fields, unit.

Families are generated rather than listed one by one, so every tariff, settlement period,
freeze day and event record number resolves. Rows marked UNVERIFIED follow PROTOCOLS.md's open
points and sit behind named constants so they can be corrected in one place.
"""
from protocols.dlt645 import values

ENERGY_FMT = "XXXXXX.XX"
TARIFFS = 4                 # tariffs 1..M in a DI1=FF block (sharp/peak/flat/valley)
SETTLEMENTS = 12            # last 1..12 settlement periods
DAILY_FREEZES = 62          # last 1..62 daily freezes
INSTANT_FREEZES = 3
SWITCH_FREEZES = 2            # last 1..2 rate-price / ladder switch-over freezes (UNVERIFIED)
EVENT_RECORDS = 10

DI_DATE = 0x04000101
DI_TIME = 0x04000102
DI_ADDRESS = 0x04000401
DI_METER_NUMBER = 0x04000402
DI_STATUS_1 = 0x04000501
DI_STATUS_3 = 0x04000503
DI_CURVE_INTERVAL = 0x04000A02   # load-curve interval, minutes (UNVERIFIED position in 04000Axx)
DI_SETTLEMENT_DAY = 0x04000B01
DI_PASSWORD_0 = 0x04000C01       # + level
DI_ALARM_1 = 0x04001001
DI_ALARM_2 = 0x04001002
DI_OVERDRAFT_LIMIT = 0x04001003
DI_HOARDING_LIMIT = 0x04001004
DI_CLOSE_ALLOWED = 0x04001005
DI_REMAINING_KWH = 0x00900100
DI_OVERDRAFT_KWH = 0x00900101
DI_REMAINING_MONEY = 0x00900200
DI_OVERDRAFT_MONEY = 0x00900201
DI_PRICE = 0x02800020
DI_TARIFF_PRICE = 0x02800021
DI_LADDER_PRICE = 0x0280000B
DI_PURCHASE_COUNT = 0x03330201   # UNVERIFIED: 0333 vs 0332 (PROTOCOLS.md open point)
DI_PURCHASE_TOTAL = 0x03330601
DI_PRICE_SWITCH_TIME = 0x04000108   # two rate-price sets: switch-over time (docs/price-notes.md)
DI_LADDER_SWITCH_TIME = 0x04000109  # two ladder sets: switch-over time
DI_STANDBY_PRICES = 0x040502FF      # standby (second) set of rate prices 1..4
DI_STANDBY_LADDER = 0x04060AFF      # standby ladder table: 6 values, 7 prices, 6 year days
LADDER_STEPS = 6
DI_YEAR_KWH = 0x000B0000   # this ladder year's combined kWh (UNVERIFIED: docs/price-notes.md)
DI_FORWARD_TOTAL = 0x00010000
DI_COMBINED_TOTAL = 0x00000000

# Event families: (DI of the count, record DI base = count + n, record fields).
# Power-down, programming, meter-clear, event-clear, time-set and cover-open follow the 03xx
# tables of 645-2007; trip (1D) and close (1E) follow the 2013 amendment as read by dgiot
# ("1D000101 last trip time"); here count 1D000000 and records 1D0000nn, like 03xx: UNVERIFIED.
EV_POWER_DOWN = 0x03110000
EV_PROGRAMMING = 0x03300000
EV_METER_CLEAR = 0x03300100
EV_EVENT_CLEAR = 0x03300300
EV_TIME_SET = 0x03300400
EV_COVER_OPEN = 0x03300D00
EV_TRIP = 0x1D000000
EV_CLOSE = 0x1E000000
EV_RELAY_FAULT = 0x03360000      # load-switch malfunction (负荷开关误动), UNVERIFIED
# constant magnetic field (恒定磁场干扰): count 03350000, records 033500nn start + end (12 bytes),
# 28 with the energies (docs/lineloss.md has the sources; their order UNVERIFIED)
EV_MAGNETIC = 0x03350000
EVENT_FIELDS = {
    EV_POWER_DOWN: ("power_down", (("YYMMDDhhmmss", "start"), ("YYMMDDhhmmss", "end"))),
    EV_PROGRAMMING: ("programming", (("YYMMDDhhmmss", "time"), ("HEX4", "operator"))
                     + tuple(("DI", "di%d" % i) for i in range(1, 11))),
    EV_METER_CLEAR: ("meter_clear", (("YYMMDDhhmmss", "time"), ("HEX4", "operator"),
                                     (ENERGY_FMT, "forward_kwh"), (ENERGY_FMT, "reverse_kwh"))),
    EV_EVENT_CLEAR: ("event_clear", (("YYMMDDhhmmss", "time"), ("HEX4", "operator"), ("DI", "di"))),
    EV_TIME_SET: ("time_set", (("HEX4", "operator"), ("YYMMDDhhmmss", "before"),
                               ("YYMMDDhhmmss", "after"))),
    EV_COVER_OPEN: ("cover_open", (("YYMMDDhhmmss", "start"), ("YYMMDDhhmmss", "end"),
                                   (ENERGY_FMT, "forward_kwh_start"), (ENERGY_FMT, "forward_kwh_end"))),
    EV_TRIP: ("trip", (("YYMMDDhhmmss", "time"), ("HEX4", "operator"),
                       (ENERGY_FMT, "forward_kwh"), (ENERGY_FMT, "reverse_kwh"))),
    EV_CLOSE: ("close", (("YYMMDDhhmmss", "time"), ("HEX4", "operator"),
                         (ENERGY_FMT, "forward_kwh"), (ENERGY_FMT, "reverse_kwh"))),
    EV_RELAY_FAULT: ("relay_fault", (("YYMMDDhhmmss", "start"), ("YYMMDDhhmmss", "end"))),
    EV_MAGNETIC: ("magnetic", (("YYMMDDhhmmss", "start"), ("YYMMDDhhmmss", "end"),
                               (ENERGY_FMT, "forward_kwh_start"), (ENERGY_FMT, "reverse_kwh_start"),
                               (ENERGY_FMT, "forward_kwh_end"), (ENERGY_FMT, "reverse_kwh_end"))),
}
_EVENT_BY_NAME = {}
for _base, (_name, _f) in EVENT_FIELDS.items():
    _EVENT_BY_NAME[_name] = _base


def event_di(name):
    """Count DI of an event family by its name (``"trip"``, ``"power_down"`` ...)."""
    return _EVENT_BY_NAME[name]


# Load curves, per item (the 2009 filing of 645-2007, 0610xxxx): request DI + NN blocks +
# start mm hh DD MM YY; reply DI + start YYMMDDhhmm + NN values. Layout UNVERIFIED.
CURVE_ITEMS = {
    0x06100101: ("curve_voltage_a", "XXX.X", False, "V"),
    0x06100201: ("curve_current_a", "XXX.XXX", True, "A"),
    0x06100300: ("curve_active_power", "XX.XXXX", True, "kW"),
    0x06100500: ("curve_power_factor", "X.XXX", True, ""),
    0x06100601: ("curve_forward_active", ENERGY_FMT, False, "kWh"),
    0x06100602: ("curve_reverse_active", ENERGY_FMT, False, "kWh"),
}
CURVE_TIME_FMT = "YYMMDDhhmm"


class Item:
    """One data item: a name, one or more (format, label) fields, a unit, signedness."""

    def __init__(self, di, name, fields, unit="", signed=False, writable_level=None):
        self.di = di
        self.name = name
        self.fields = fields
        self.unit = unit
        self.signed = signed
        self.writable_level = writable_level

    @property
    def size(self):
        return sum(values.size(f) for f, _ in self.fields)

    def decode(self, data):
        """Wire bytes to a value (one field) or a dict of labelled values."""
        if len(data) != self.size:
            raise values.DecodeError(self.name, "needs %d bytes, got %d" % (self.size, len(data)), data)
        out = {}
        pos = 0
        for fmt, label in self.fields:
            n = values.size(fmt)
            out[label] = values.decode(fmt, data[pos:pos + n], self.signed)
            pos += n
        if len(self.fields) == 1:
            return out[self.fields[0][1]]
        return out

    def encode(self, value):
        """A value (or dict/tuple for multi-field items) to wire bytes."""
        if len(self.fields) == 1:
            return values.encode(self.fields[0][0], value, self.signed)
        if isinstance(value, dict):
            value = [value[label] for _, label in self.fields]
        return b"".join(values.encode(fmt, v, self.signed) for (fmt, _), v in zip(self.fields, value))

    def __repr__(self):
        return "Item(%08X %s)" % (self.di, self.name)


def _freeze_item(di, kind, d1, d0):
    """A freeze record's item: DI1 00 its time, 01 / 02 its forward / reverse active energy
    block (total, tariffs 1..4), the same for every freeze family of DI3 05."""
    if d1 == 0:
        return _one(di, "%s_time_last_%d" % (kind, d0), "YYMMDDhhmm")
    what = "forward" if d1 == 1 else "reverse"
    fields = ((ENERGY_FMT, "total"),) + tuple((ENERGY_FMT, "tariff_%d" % t)
                                              for t in range(1, TARIFFS + 1))
    return Item(di, "%s_%s_active_last_%d" % (kind, what, d0), fields, "kWh")


def _one(di, name, fmt, unit="", signed=False, level=None):
    return Item(di, name, ((fmt, "value"),), unit, signed, level)


_ENERGY_KINDS = {0x00: ("combined_active", True), 0x01: "forward_active", 0x02: "reverse_active"}

_FIXED = {}  # type: dict[int, Item]


def _fixed(di, name, fmt, unit="", signed=False, level=None):
    _FIXED[di] = _one(di, name, fmt, unit, signed, level)


for _n, _name in ((1, "a"), (2, "b"), (3, "c")):
    _fixed(0x02010000 | (_n << 8), "voltage_" + _name, "XXX.X", "V")
    _fixed(0x02020000 | (_n << 8), "current_" + _name, "XXX.XXX", "A", True)
    _fixed(0x02030000 | (_n << 8), "active_power_" + _name, "XX.XXXX", "kW", True)
    _fixed(0x02060000 | (_n << 8), "power_factor_" + _name, "X.XXX", "", True)
_fixed(0x02030000, "active_power_total", "XX.XXXX", "kW", True)
_fixed(0x02060000, "power_factor_total", "X.XXX", "", True)
_fixed(0x02800001, "neutral_current", "XXX.XXX", "A", True)
_fixed(0x02800002, "frequency", "XX.XX", "Hz")
_fixed(0x02800007, "meter_temperature", "XXX.X", "C", True)
_fixed(DI_PRICE, "current_price", "XXXX.XXXX", "yuan/kWh")
_fixed(DI_TARIFF_PRICE, "current_tariff_price", "XXXX.XXXX", "yuan/kWh")
_fixed(DI_LADDER_PRICE, "current_ladder_price", "XXXX.XXXX", "yuan/kWh")
_fixed(DI_DATE, "date", "YYMMDDWW", "", False, 4)
_fixed(DI_TIME, "time", "hhmmss", "", False, 4)
_fixed(DI_ADDRESS, "address", "ADDR")
_fixed(DI_METER_NUMBER, "meter_number", "ADDR", "", False, 4)
for _k in range(1, 8):
    _fixed(0x04000500 + _k, "status_word_%d" % _k, "WORD")
_fixed(DI_CURVE_INTERVAL, "load_curve_interval", "NNNN", "min", False, 4)
_fixed(DI_SETTLEMENT_DAY, "settlement_day", "DDhh", "", False, 4)
_fixed(DI_ALARM_1, "alarm_money_1", ENERGY_FMT, "yuan", False, 2)
_fixed(DI_ALARM_2, "alarm_money_2", ENERGY_FMT, "yuan", False, 2)
_fixed(DI_OVERDRAFT_LIMIT, "overdraft_money_limit", ENERGY_FMT, "yuan", False, 2)
_fixed(DI_HOARDING_LIMIT, "hoarding_money_limit", ENERGY_FMT, "yuan", False, 2)
_fixed(DI_CLOSE_ALLOWED, "close_allowed_money", ENERGY_FMT, "yuan", False, 2)
_fixed(0x04000F01, "alarm_kwh_1", ENERGY_FMT, "kWh", False, 2)
_fixed(0x04000F02, "alarm_kwh_2", ENERGY_FMT, "kWh", False, 2)
_fixed(0x04000F04, "overdraft_kwh_limit", ENERGY_FMT, "kWh", False, 2)
_fixed(DI_REMAINING_KWH, "remaining_kwh", ENERGY_FMT, "kWh")
_fixed(DI_OVERDRAFT_KWH, "overdraft_kwh", ENERGY_FMT, "kWh")
_fixed(DI_REMAINING_MONEY, "remaining_money", ENERGY_FMT, "yuan")
_fixed(DI_OVERDRAFT_MONEY, "overdraft_money", ENERGY_FMT, "yuan")
_fixed(DI_PURCHASE_COUNT, "purchase_count", "NNNN", "")
_fixed(DI_PURCHASE_TOTAL, "purchase_money_total", ENERGY_FMT, "yuan")
_fixed(DI_YEAR_KWH, "ladder_year_kwh", ENERGY_FMT, "kWh")
_fixed(DI_PRICE_SWITCH_TIME, "rate_price_switch_time", "YYMMDDhhmm", "", False, 2)
_fixed(DI_LADDER_SWITCH_TIME, "ladder_switch_time", "YYMMDDhhmm", "", False, 2)
_FIXED[DI_STANDBY_PRICES] = Item(DI_STANDBY_PRICES, "standby_rate_prices", tuple(
    ("XXXX.XXXX", "price_%d" % k) for k in range(1, TARIFFS + 1)), "yuan/kWh", False, 2)
_FIXED[DI_STANDBY_LADDER] = Item(DI_STANDBY_LADDER, "standby_ladder_table", tuple(
    [(ENERGY_FMT, "value_%d" % k) for k in range(1, LADDER_STEPS + 1)]
    + [("XXXX.XXXX", "price_%d" % k) for k in range(1, LADDER_STEPS + 2)]
    + [("MMDDhh", "year_day_%d" % k) for k in range(1, LADDER_STEPS + 1)]), "", False, 2)
for _k in range(10):
    _fixed(DI_PASSWORD_0 + _k, "password_level_%d" % _k, "HEX4", "", False, _k)


def split(di):
    """(DI3, DI2, DI1, DI0) of a 32-bit identifier."""
    return ((di >> 24) & 0xFF, (di >> 16) & 0xFF, (di >> 8) & 0xFF, di & 0xFF)


def to_bytes(di):
    """Wire order (DI0 first)."""
    return bytes([di & 0xFF, (di >> 8) & 0xFF, (di >> 16) & 0xFF, (di >> 24) & 0xFF])


def from_bytes(raw):
    return raw[0] | (raw[1] << 8) | (raw[2] << 16) | (raw[3] << 24)


def parse(text):
    """``"0001FF00"`` or ``"00 01 FF 00"`` (DI3 first, as printed) to an int."""
    clean = "".join(text.split()).replace("0x", "").replace("0X", "")
    if len(clean) != 8:
        raise ValueError("a DI has 8 hex digits: %r" % (text,))
    return int(clean, 16)


def text(di):
    return "%08X" % di


def lookup(di):
    """The Item for a single (non-block) DI, or None when we do not know it."""
    item = _FIXED.get(di)
    if item is not None:
        return item
    d3, d2, d1, d0 = split(di)
    if d3 == 0x00 and d2 in _ENERGY_KINDS and d1 <= 0x3F and d0 <= SETTLEMENTS:
        kind = _ENERGY_KINDS[d2]
        signed = False
        if isinstance(kind, tuple):
            kind, signed = kind
        tariff = "total" if d1 == 0 else "tariff_%d" % d1
        period = "" if d0 == 0 else "_last_%d" % d0
        return _one(di, "%s_%s%s" % (kind, tariff, period), ENERGY_FMT, "kWh", signed)
    if d3 == 0x05 and d2 in (0x01, 0x06) and d1 <= 0x02:
        limit = DAILY_FREEZES if d2 == 0x06 else INSTANT_FREEZES
        if 1 <= d0 <= limit:
            kind = "daily_freeze" if d2 == 0x06 else "instant_freeze"
            return _freeze_item(di, kind, d1, d0)
    if d3 == 0x05 and d2 in (0x05, 0x07) and d1 <= 0x02 and 1 <= d0 <= SWITCH_FREEZES:
        kind = "price_switch_freeze" if d2 == 0x05 else "ladder_switch_freeze"
        return _freeze_item(di, kind, d1, d0)
    base = di & 0xFFFFFF00
    if base in EVENT_FIELDS and d0 <= EVENT_RECORDS:
        name, fields = EVENT_FIELDS[base]
        if d0 == 0:
            return _one(di, name + "_count", "XXXXXX")
        return Item(di, "%s_last_%d" % (name, d0), fields)
    if di in CURVE_ITEMS:
        name, fmt, signed, unit = CURVE_ITEMS[di]
        return Item(di, name, ((CURVE_TIME_FMT, "start"), (fmt, "value")), unit, signed)
    return _phase_event_item(di)


def block_members(di):
    """Member DIs of a block read (DI1 = FF: total + tariffs; DI0 = FF: current + 12 periods)."""
    d3, d2, d1, d0 = split(di)
    if di in PHASE_BLOCKS:
        return [(di & 0xFFFF00FF) | (k << 8) for k in PHASE_BLOCKS[di]]
    if d3 != 0x00 or (d1 != 0xFF and d0 != 0xFF):
        return None
    tariffs = range(TARIFFS + 1) if d1 == 0xFF else (d1,)
    periods = range(SETTLEMENTS + 1) if d0 == 0xFF else (d0,)
    out = []
    for p in periods:
        for t in tariffs:
            member = (di & 0xFFFF0000) | (t << 8) | p
            if lookup(member) is None:
                return None
            out.append(member)
    return out


def is_curve(di):
    return di in CURVE_ITEMS


def curve_value_format(di):
    _, fmt, signed, unit = CURVE_ITEMS[di]
    return fmt, signed, unit


def decode_value(di, payload):
    """Decode a read reply's payload for ``di``: (name, value, unit).

    Block reads give a list; load curves give ``{"start": ..., "values": [...]}``.
    """
    members = block_members(di)
    if members is not None:
        items = [lookup(m) for m in members]
        need = sum(i.size for i in items)
        if len(payload) != need:
            raise values.DecodeError(text(di), "block needs %d bytes, got %d" % (need, len(payload)),
                                     payload)
        out = []
        pos = 0
        for item in items:
            out.append(item.decode(payload[pos:pos + item.size]))
            pos += item.size
        return ("block_%s" % text(di), out, items[0].unit)
    if di in CURVE_ITEMS:
        fmt, signed, unit = curve_value_format(di)
        if len(payload) < 5 or (len(payload) - 5) % values.size(fmt):
            raise values.DecodeError(text(di), "curve payload of %d bytes" % len(payload), payload)
        start = values.decode(CURVE_TIME_FMT, payload[:5])
        n = values.size(fmt)
        pts = [values.decode(fmt, payload[i:i + n], signed) for i in range(5, len(payload), n)]
        return (CURVE_ITEMS[di][0], {"start": start, "values": pts}, unit)
    item = lookup(di)
    if item is None:
        raise values.DecodeError(text(di), "unknown data identifier", to_bytes(di))
    return (item.name, item.decode(payload), item.unit)


# Three-phase event families (645-2007 appendix A, 1000xxxx..1Bxxxxxx): DI3 the family, DI2 the
# phase (01..03; 00 for the whole meter), DI1 DI0 = 0001 the count, 0002 the total minutes, then
# per record nn (01..10) DI1 = 01 its start and DI1 = END its end. 1301 0001/0101/2501 (断相 A:
# count, start, end) and 1B01 0101/1201 (A相功率反向 start, end) as listed by public 645-2007
# readers (docs/threephase.md); 1000 (失压) taken as 13's layout and 14/17 without an end: UNVERIFIED.
PHASE_EVENTS = {0x10: ("voltage_loss", True, 0x25), 0x13: ("phase_break", True, 0x25),
                0x14: ("voltage_reverse_sequence", False, None),
                0x16: ("voltage_imbalance", False, None),
                0x17: ("current_imbalance", False, None), 0x1B: ("power_reverse", True, 0x12)}
PHASE_NAMES = ("a", "b", "c")


def phase_event(di):
    """(family, phase 0..2 or None, "count" | "minutes" | "start" | "end", record n) of a
    three-phase event DI, or None."""
    d3, d2, d1, d0 = split(di)
    fam = PHASE_EVENTS.get(d3)
    if fam is None:
        return None
    _, per_phase, end = fam
    if (per_phase and not 1 <= d2 <= 3) or (not per_phase and d2 != 0):
        return None
    phase = d2 - 1 if per_phase else None
    if d1 == 0 and d0 in (1, 2):
        return (d3, phase, "count" if d0 == 1 else "minutes", 0)
    if 1 <= d0 <= EVENT_RECORDS and (d1 == 1 or (end is not None and d1 == end)):
        return (d3, phase, "start" if d1 == 1 else "end", d0)
    return None


def _phase_event_item(di):
    fam = phase_event(di)
    if fam is None:
        return None
    family, phase, field, n = fam
    name = PHASE_EVENTS[family][0] + ("" if phase is None else "_" + PHASE_NAMES[phase])
    if field in ("count", "minutes"):
        return _one(di, "%s_%s" % (name, field), "XXXXXX", "" if field == "count" else "min")
    return _one(di, "%s_%s_last_%d" % (name, field, n), "YYMMDDhhmmss")


# Real-time blocks of a three-phase meter: 0201FF00 voltage A/B/C, 0202FF00 current A/B/C,
# 0203FF00 active power total/A/B/C, 0206FF00 power factor total/A/B/C (645-2007 appendix A).
PHASE_BLOCKS = {0x0201FF00: (1, 2, 3), 0x0202FF00: (1, 2, 3), 0x0203FF00: (0, 1, 2, 3),
                0x0206FF00: (0, 1, 2, 3)}
