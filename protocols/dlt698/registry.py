"""OI/OAD registry of DL/T 698.45: what an object attribute is, its A-XDR type, scaler and unit.

Sources (see docs/dlt698-notes.md): the ``dlt698`` 1.0.1 package's standard catalogue
(``standard.find_object``: types, scalers and units of 0000..00A3, 1010.., 2000, 2001, 2004,
200A, 200F, 2010, 2017, 4000..4002, 5004, 3011; it cites the standard's tables 125..149 and
appendix E), the 600888/dlt698 guides (record columns 2021/2023 of freezes, 201E/2020/2022/2024 of
events), public meter firmware OI tables (Charity-Vance/Leetcode ``DI_698.h``, the prepaid and
relay objects 202C/202D/401E/401F/8000/8001; marked unverified in the notes where only one
source was seen). ``lookup(oad)`` answers ``Attr`` or None; the caller scales with ``scaled``.
"""
from protocols.dlt698 import const as K
from protocols.dlt698 import data as D


class Attr:
    """One attribute (or element of one): name, A-XDR tag, scaler (power of ten) and unit code;
    ``elements`` names the members of an array/structure (index 1.. in OAD terms)."""

    def __init__(self, name, tag, scaler=0, unit=None, elements=None, element_tag=None,
                 record=False):
        self.name = name
        self.tag = tag
        self.scaler = scaler
        self.unit = unit
        self.elements = elements
        self.element_tag = element_tag
        self.record = record

    @property
    def unit_name(self):
        return K.UNIT_NAMES.get(self.unit, "") if self.unit is not None else ""

    def __repr__(self):
        return "Attr(%s)" % self.name


TARIFFS = ["total", "tariff 1 (sharp)", "tariff 2 (peak)", "tariff 3 (flat)", "tariff 4 (valley)"]
PHASES = ["phase A", "phase B", "phase C"]
TOTAL_PHASES = ["total"] + PHASES
ENERGY_KINDS = [  # OI 00X0: (name, unit, signed)  -- 电能量类, 附录 E.1
    ("combined active energy", 33, True), ("forward active energy", 33, False),
    ("reverse active energy", 33, False), ("combined reactive energy 1", 35, True),
    ("combined reactive energy 2", 35, True), ("quadrant I reactive energy", 35, False),
    ("quadrant II reactive energy", 35, False), ("quadrant III reactive energy", 35, False),
    ("quadrant IV reactive energy", 35, False), ("forward apparent energy", 34, False),
    ("reverse apparent energy", 34, False),
]
DEMAND_UNITS = {33: 28, 35: 32, 34: 30}        # energy unit -> demand unit (kW, kvar, kVA)
PHASE_PREFIX = ["", "phase A ", "phase B ", "phase C "]

# events 3000..3028 (事件类对象); name of each, from public firmware OI tables
EVENT_NAMES = [
    "loss of voltage", "under-voltage", "over-voltage", "phase break", "loss of current",
    "over-current", "current break", "power reversal", "overload",
    "forward active demand over limit", "reverse active demand over limit",
    "reactive demand over limit", "power factor under limit", "total loss of voltage",
    "auxiliary power down", "voltage reverse phase sequence", "current reverse phase sequence",
    "power down", "programming", "meter clear", "demand clear", "event clear", "clock set",
    "time-period table programming", "time-zone table programming", "weekly rest programming",
    "settlement day programming", "cover open", "terminal cover open", "voltage unbalance",
    "current unbalance", "relay trip", "relay close", "holiday programming",
    "active combination programming", "reactive combination programming",
    "tariff price programming", "ladder table programming", "key update",
    "abnormal card insertion", "purchase", "refund", "constant magnetic interference",
    "load switch malfunction",          # 3029..302B: a public Wasion firmware's event table
]
FREEZE_NAMES = {0x5000: "instant freeze", 0x5001: "second freeze", 0x5002: "minute freeze",
                0x5003: "hour freeze", 0x5004: "daily freeze", 0x5005: "settlement-day freeze",
                0x5006: "monthly freeze", 0x5007: "yearly freeze",
                0x5008: "time-zone switch freeze", 0x5009: "day-table switch freeze",
                0x500A: "tariff price switch freeze", 0x500B: "ladder switch freeze",
                0x5011: "ladder settlement freeze"}

FIXED = {
    # OI: {attr: Attr}
    0x2000: {2: Attr("voltage", D.ARRAY, -1, 38, PHASES, D.LONG_UNSIGNED)},
    0x2001: {2: Attr("current", D.ARRAY, -3, 36, PHASES, D.DOUBLE_LONG),
             4: Attr("neutral current", D.DOUBLE_LONG, -3, 36)},
    0x2004: {2: Attr("active power", D.ARRAY, -1, 27, TOTAL_PHASES, D.DOUBLE_LONG)},
    0x2005: {2: Attr("reactive power", D.ARRAY, -1, 31, TOTAL_PHASES, D.DOUBLE_LONG)},
    0x2006: {2: Attr("apparent power", D.ARRAY, -1, 29, TOTAL_PHASES, D.DOUBLE_LONG)},
    0x200A: {2: Attr("power factor", D.ARRAY, -3, None, TOTAL_PHASES, D.LONG)},
    0x200F: {2: Attr("grid frequency", D.LONG_UNSIGNED, -2, 47)},
    0x2010: {2: Attr("meter temperature", D.LONG, -1, 9)},
    0x2014: {2: Attr("meter run status words", D.ARRAY, 0, None,
                     ["status word %d" % n for n in range(1, 8)], D.BIT_STRING)},
    0x2017: {2: Attr("current active demand", D.DOUBLE_LONG, -4, 28)},
    0x201E: {2: Attr("event start time", D.DATE_TIME_S)},
    0x2020: {2: Attr("event end time", D.DATE_TIME_S)},
    0x2021: {2: Attr("data freeze time", D.DATE_TIME_S)},
    0x2022: {2: Attr("event record number", D.DOUBLE_LONG_UNSIGNED)},
    0x2023: {2: Attr("freeze record number", D.DOUBLE_LONG_UNSIGNED)},
    0x2024: {2: Attr("event source", D.NULL)},
    # prepaid (费控) objects: 当前钱包文件, 当前透支金额, 累计购电金额; 金额限值
    0x202C: {2: Attr("current wallet", D.STRUCTURE, -2, 10,
                     ["remaining amount", "purchase count"], D.DOUBLE_LONG_UNSIGNED)},
    0x202D: {2: Attr("current overdraft amount", D.DOUBLE_LONG_UNSIGNED, -2, 10)},
    0x202E: {2: Attr("cumulative purchase amount", D.DOUBLE_LONG_UNSIGNED, -2, 10)},
    0x401E: {2: Attr("alarm amount limits", D.STRUCTURE, -2, 10, ["alarm limit 1",
                     "alarm limit 2"], D.DOUBLE_LONG_UNSIGNED)},
    0x401F: {2: Attr("other amount limits", D.STRUCTURE, -2, 10,
                     ["overdraft limit", "hoarding limit", "close-allowed limit"],
                     D.DOUBLE_LONG_UNSIGNED)},
    0x4000: {2: Attr("date-time", D.DATE_TIME_S), 3: Attr("clock-set mode", D.ENUM)},
    0x4001: {2: Attr("communication address", D.OCTET_STRING)},
    0x4002: {2: Attr("meter number", D.OCTET_STRING)},
    0x4003: {2: Attr("customer number", D.OCTET_STRING)},
    # 遥控 remote control and 保电 keep-power
    0x8000: {2: Attr("relay configuration", D.STRUCTURE, 0, None,
                     ["trip current threshold", "over-current trip delay"]),
             3: Attr("relay output state", D.BIT_STRING), 4: Attr("alarm state", D.BIT_STRING),
             5: Attr("command state", D.BIT_STRING)},
    0x8001: {2: Attr("keep-power state", D.ENUM)},
}
METHODS = {
    0x8000: {127: "trigger alarm", 128: "release alarm", 129: "trip", 130: "close"},
    0x8001: {127: "keep power", 128: "release keep power", 129: "release automatic keep power"},
}
OBJECT_NAMES = {0x8000: "remote control", 0x8001: "keep power", 0x4000: "date-time"}


def _energy(oi):
    kind, phase = (oi >> 4) & 0x0F, oi & 0x0F
    if oi >> 12 not in (0, 1) or (oi >> 8) & 0x0F or kind >= len(ENERGY_KINDS) or phase > 3:
        return None
    name, unit, signed = ENERGY_KINDS[kind]
    name = PHASE_PREFIX[phase] + name
    if oi >> 12 == 0:
        tag = D.DOUBLE_LONG if signed else D.DOUBLE_LONG_UNSIGNED
        return {2: Attr(name, D.ARRAY, -2, unit, TARIFFS, tag),
                4: Attr(name + " (high precision)", D.ARRAY, -4, unit, TARIFFS,
                        D.LONG64 if signed else D.LONG64_UNSIGNED)}
    demand = name.replace("energy", "maximum demand")
    return {2: Attr(demand, D.ARRAY, -4, DEMAND_UNITS[unit], TARIFFS, D.STRUCTURE)}


def _record_object(oi):
    if 0x3000 <= oi < 0x3000 + len(EVENT_NAMES):
        name = EVENT_NAMES[oi - 0x3000] + " event"
    elif oi in FREEZE_NAMES:
        name = FREEZE_NAMES[oi]
    else:
        return None
    return {2: Attr(name + " records", D.ARRAY, record=True),
            3: Attr(name + " associated object attributes", D.ARRAY)}


def attributes(oi):
    """The attribute table of ``oi`` ({attr: Attr}) or None."""
    return FIXED.get(oi) or _energy(oi) or _record_object(oi)


def object_name(oi):
    table = attributes(oi)
    if oi in OBJECT_NAMES:
        return OBJECT_NAMES[oi]
    if table and 2 in table:
        return table[2].name.replace(" records", "")
    return None


def lookup(oad):
    """The Attr an OAD names: the whole attribute (index 0) or one element of it."""
    table = attributes(oad.oi)
    attr = table.get(oad.attr) if table else None
    if attr is None or oad.index == 0:
        return attr
    if not attr.elements or oad.index > len(attr.elements):
        return None
    return Attr("%s, %s" % (attr.name, attr.elements[oad.index - 1]), attr.element_tag,
                attr.scaler, attr.unit)


def method_name(omd):
    return METHODS.get(omd.oi, {}).get(omd.method)


def scaled(attr, d):
    """Engineering value of Data ``d`` under ``attr``: numbers scaled, lists element-wise,
    anything else unchanged (a DateTime, bytes ...)."""
    if not isinstance(d, D.Data):          # an element that is no Data (MS, raw numbers)
        return d
    if isinstance(d.value, list):
        return [scaled(attr, item) for item in d.value]
    if isinstance(d.value, bool) or not isinstance(d.value, int) or not attr.scaler:
        return d.value
    if d.tag == D.ENUM:
        return d.value
    return d.value * 10.0 ** attr.scaler if attr.scaler < 0 else d.value * 10 ** attr.scaler


def describe_oad(oad):
    """Human name of an OAD (``"forward active energy, total"``) or its hex form."""
    attr = lookup(oad)
    if attr is not None:
        return attr.name
    name = object_name(oad.oi)
    return "%s attribute %d" % (name, oad.attr) if name else oad.text()
