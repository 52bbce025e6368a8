"""Which layout each Q/GDW 1376.1 item (AFN, Fn, direction) has: the table the unit parser sizes by.

Requests: a class 1 request (AFN0C) carries no data for any item; a class 2 request (AFN0D)
carries one time label per (Pn, Fn) pair whose kind is fixed by the item (``TD_KIND``: Td_d A.20
for daily and reading-day freezes, Td_m A.21 for monthly ones, Td_c for curves). Answers repeat
the label before the item's data. Facts and their sources: docs/gdw1376_1-notes.md.
"""
from protocols.gdw1376_1.layouts import (Carried, Concat, Curve, Dated, Empty, Energy, Events,
                                         Fields, PerUnitConfirm, Repeated, U16)
from protocols.gdw1376_1 import area_ext, campaign_ext, params

AFN_CONFIRM, AFN_LINK, AFN_SET, AFN_CONTROL, AFN_QUERY = 0x00, 0x02, 0x04, 0x05, 0x0A
AFN_CLASS1, AFN_CLASS2, AFN_CLASS3, AFN_FORWARD = 0x0C, 0x0D, 0x0E, 0x10

TD_DAY, TD_MONTH, TD_CURVE = "Td_d", "Td_m", "Td_c"


def _items(*spans):
    return {f for a, b in spans for f in range(a, b + 1)}


# AFN0D items by the kind of their time label: the "freeze type" column (0 daily, 1 reading
# day, 2 monthly, 3 curve) of a concentrator's class 2 table (gdgly/NUC97X_JS
# Terminal_AFN0D_CongealData_Lib.c), its vendor extensions (F235..F248 but F246) left out
TD_KIND = dict(
    [(f, TD_DAY) for f in _items((1, 12), (25, 32), (41, 43), (45, 45), (49, 50), (53, 53),
                                 (57, 59), (113, 118), (121, 126), (129, 129), (153, 156),
                                 (161, 176), (185, 192), (209, 211), (246, 246))]
    + [(f, TD_MONTH) for f in _items((17, 24), (33, 39), (44, 44), (46, 46), (51, 52), (54, 54),
                                     (60, 62), (65, 66), (130, 130), (157, 160), (177, 184),
                                     (193, 196), (201, 208), (212, 216))]
    + [(f, TD_CURVE) for f in _items((73, 76), (81, 95), (97, 110), (138, 138), (145, 148),
                                     (217, 219))])
# gridedge's extension in reserved items (备用): the area's day, dated like every daily item
TD_KIND.update({area_ext.LINE_LOSS_FN: TD_DAY, area_ext.MISSED_FN: TD_DAY})
TD_FORMAT = {TD_DAY: "A20", TD_MONTH: "A21"}

POSITIVE = Energy(("forward_active", "A14"), ("forward_reactive", "A11"),
                  ("q1_reactive", "A11"), ("q4_reactive", "A11"))
REVERSE = Energy(("reverse_active", "A14"), ("reverse_reactive", "A11"),
                 ("q2_reactive", "A11"), ("q3_reactive", "A11"))
FORWARD_ACTIVE = Energy(("forward_active", "A14"))
# one indication (示值) per item, total + tariffs: AFN0C F129..F136 (current), F137..F144 (last
# settlement), AFN0D F161..F168 (daily), F169..F176 (reading day), F177..F184 (monthly);
# active energy A.14, reactive A.11 (gdgly/NUC97X_JS Head/AFN0C.h, F129..F144)
READING_NAMES = (("forward_active", "A14"), ("forward_reactive", "A11"), ("reverse_active", "A14"),
                 ("reverse_reactive", "A11"), ("q1_reactive", "A11"), ("q2_reactive", "A11"),
                 ("q3_reactive", "A11"), ("q4_reactive", "A11"))
READINGS = [Energy(group) for group in READING_NAMES]
POWER = Fields(("time", "A15"), *[(k, "A9") for k in (
    "p", "pa", "pb", "pc", "q", "qa", "qb", "qc")] + [(k, "A5") for k in (
    "pf", "pfa", "pfb", "pfc")] + [(k, "A7") for k in ("ua", "ub", "uc")] + [(k, "A25") for k in (
    "ia", "ib", "ic", "i0")] + [(k, "A9") for k in ("s", "sa", "sb", "sc")])
PURCHASE = Fields(("time", "A15"), ("purchases", "A8"), ("remaining_money", "A14"),
                  ("purchased_money", "A14"), ("remaining_kwh", "A11"), ("overdraft_kwh", "A11"),
                  ("purchased_kwh", "A11"), ("credit_limit_kwh", "A11"), ("alarm_kwh", "A11"),
                  ("fault_kwh", "A11"))
# AFN0C F168 (settlement): reading time, M, settled then unsettled active energy, total + tariffs
SETTLEMENT = Energy(("settled", "A14"), ("unsettled", "A14"))
# AFN0C F170 meter read information (集中抄表电表抄读信息), 18 bytes (gdgly/NUC97X_JS Head/AFN0C.h)
READ_INFO = Fields(("port", "u8"), ("relay_level", "u8"), ("phase", "u8"), ("quality", "u8"),
                   ("last_ok", "u8"), ("last_ok_at", "A1"), ("last_fail_at", "A1"),
                   ("failures", "u8"))
# AFN0D F49/F51 supply minutes and reset count, F53/F54 bytes exchanged with the master
# (BIN, 4 bytes per point in Terminal_AFN0D_CongealData_Lib.c; names in that order)
SUPPLY = Fields(("supply_min", "u16"), ("resets", "u16"))
TRAFFIC = Fields(("traffic_bytes", "u32"))
# AFN0D curve items: the format of one point (point sizes from the same class 2 table)
CURVE_FORMATS = dict([(f, "A9") for f in range(81, 89)] + [(f, "A7") for f in (89, 90, 91)]
                     + [(f, "A25") for f in (92, 93, 94, 95)] + [(f, "A13") for f in range(97, 101)]
                     + [(f, "A11") for f in range(101, 105)] + [(f, "A5") for f in range(105, 109)]
                     + [(f, "A11") for f in range(145, 149)])

# AFN0D F27 day voltage statistics (日电压统计数据), 93 bytes after Td_d: per phase A/B/C the
# minutes over the upper-upper limit, under the lower-lower, over the upper, under the lower and
# within (BIN, 2 bytes each); per phase the maximum and minimum (A.7) with their times (A.18);
# the phases' mean voltages (A.7); per phase the over, under and qualified rates (A.25, %, the
# 2013 text's addition). Layout: gdgly/NUC97X_JS Terminal/Terminal_SaveRam.h ADDR_AFN0DF27_SOUR
VOLTAGE_MINUTES = ("over_upper_upper_min", "under_lower_lower_min", "over_upper_min",
                   "under_lower_min", "ok_min")
VOLTAGE_STATS = Fields(
    *[("%s_%s" % (ph, k), "u16") for ph in "abc" for k in VOLTAGE_MINUTES]
    + [f for ph in "abc" for f in (("%s_max_v" % ph, "A7"), ("%s_max_at" % ph, "A18"),
                                   ("%s_min_v" % ph, "A7"), ("%s_min_at" % ph, "A18"))]
    + [("%s_mean_v" % ph, "A7") for ph in "abc"]
    + [("%s_%s" % (ph, k), "A25") for ph in "abc" for k in ("over_rate", "under_rate",
                                                             "ok_rate")])

# AFN04/0A F10 meter archive entry (终端电能表配置参数), 27 bytes: index, measuring point,
# D7..D5 baud code + D4..D0 port, protocol (1 = 645-1997, 30 = 645-2007), address, password,
# tariff count, integer/decimal digits, collector address, user class (UNVERIFIED against the
# 2013 text; the layout as commonly implemented)
METER_ENTRY = Concat(U16("index"), U16("point"), Fields(
    ("port_baud", "u8"), ("protocol", "u8"), ("addr", "A12")), Fields(
    *[("pw%d" % k, "u8") for k in range(6)]), Fields(
    ("tariffs", "u8"), ("digits", "u8"), ("collector", "A12"), ("user_class", "u8")))
PROTOCOL_645_1997, PROTOCOL_645_2007 = 1, 30
# 1376.1-2013 names no code for DL/T 698.45 (its table leaves "other: reserved"); 45 is our
# choice, UNVERIFIED against any public master station (docs/drivers-notes.md)
PROTOCOL_698_45 = 45
BAUD_CODES = (0, 600, 1200, 2400, 4800, 7200, 9600, 19200)

# (AFN, Fn, up) -> layout, where the item's layout is not the rule of its class (``layout``)
LAYOUTS = {
    (AFN_CONFIRM, 1, True): Empty(), (AFN_CONFIRM, 1, False): Empty(),
    (AFN_CONFIRM, 2, True): Empty(), (AFN_CONFIRM, 2, False): Empty(),
    (AFN_CONFIRM, 3, True): PerUnitConfirm(), (AFN_CONFIRM, 3, False): PerUnitConfirm(),
    (AFN_LINK, 1, True): Empty(), (AFN_LINK, 2, True): Empty(), (AFN_LINK, 3, True): Empty(),
    (AFN_CLASS1, 25, True): POWER, (AFN_CLASS1, 33, True): POSITIVE,
    (AFN_CLASS1, 34, True): REVERSE, (AFN_CLASS1, 167, True): PURCHASE,
    (AFN_CLASS1, 168, True): SETTLEMENT, (AFN_CLASS1, 170, True): READ_INFO,
    (AFN_CLASS2, 1, True): Dated("A20", POSITIVE), (AFN_CLASS2, 2, True): Dated("A20", REVERSE),
    (AFN_CLASS2, 9, True): Dated("A20", POSITIVE), (AFN_CLASS2, 10, True): Dated("A20", REVERSE),
    (AFN_CLASS2, 17, True): Dated("A21", POSITIVE), (AFN_CLASS2, 18, True): Dated("A21", REVERSE),
    (AFN_CLASS2, 49, True): Dated("A20", SUPPLY), (AFN_CLASS2, 51, True): Dated("A21", SUPPLY),
    (AFN_CLASS2, 27, True): Dated("A20", VOLTAGE_STATS),
    (AFN_CLASS2, 35, True): Dated("A21", VOLTAGE_STATS),   # the month (NUC97X ADDR_AFN0DF35_SOUR)
    (AFN_CLASS2, 53, True): Dated("A20", TRAFFIC), (AFN_CLASS2, 54, True): Dated("A21", TRAFFIC),
    # AFN10 F1 transparent forward (ksy afn16_f1 for the answer)
    (AFN_FORWARD, 1, False): Carried((("port", "u8"), ("control", "u8"), ("frame_timeout", "u8"),
                                      ("byte_timeout", "u8"))),
    (AFN_FORWARD, 1, True): Carried((("port", "u8"),)),
    (AFN_FORWARD, 9, True): Carried((("port", "u8"), ("meter", "A12"), ("result", "u8")), 1),
    (AFN_FORWARD, 10, True): Fields(("port", "u8"), ("meter", "A12"), ("result", "u8"),
                                    ("flag", "u8")),
    # archive: set (AFN04) and query (AFN0A) F10
    (AFN_SET, 10, False): Repeated(METER_ENTRY),
    (AFN_QUERY, 10, False): Repeated(U16("index")), (AFN_QUERY, 10, True): Repeated(METER_ENTRY),
    # control (AFN05): F1 trip (one byte: D7..D4 limit time x 0.5 h, D3..D0 alarm delay min,
    # UNVERIFIED packing), F2 allow close, F25 keep-power on (duration x 0.5 h, 0 = until
    # released), F33 keep-power off
    (AFN_CONTROL, 1, False): Fields(("limit_alarm", "u8")), (AFN_CONTROL, 2, False): Empty(),
    (AFN_CONTROL, 25, False): Fields(("half_hours", "u8")), (AFN_CONTROL, 33, False): Empty(),
    # class 3 events: request Pm Pn, answer counters + records (records: protocols.gdw1376_1.erc)
    (AFN_CLASS3, 1, False): Fields(("pm", "u8"), ("pn", "u8")), (AFN_CLASS3, 1, True): Events(),
    (AFN_CLASS3, 2, False): Fields(("pm", "u8"), ("pn", "u8")), (AFN_CLASS3, 2, True): Events(),
    # forwarding downlink: F9 direct meter read, F10 remote trip / allow close (UNVERIFIED field
    # order: port, relay count, relays, target, then the DI or the control flag)
    (AFN_FORWARD, 9, False): Fields(("port", "u8"), ("relays", "u8"), ("meter", "A12"),
                                    ("di_kind", "u8"), ("di0", "u8"), ("di1", "u8"),
                                    ("di2", "u8"), ("di3", "u8")),
    (AFN_FORWARD, 10, False): Fields(("port", "u8"), ("relays", "u8"), ("meter", "A12"),
                                     ("flag", "u8"), ("valid_min", "u8")),
}
for _k, _reading in enumerate(READINGS):
    LAYOUTS[(AFN_CLASS1, 129 + _k, True)] = LAYOUTS[(AFN_CLASS1, 137 + _k, True)] = _reading
    LAYOUTS[(AFN_CLASS2, 161 + _k, True)] = LAYOUTS[(AFN_CLASS2, 169 + _k, True)] = Dated(
        "A20", _reading)
    LAYOUTS[(AFN_CLASS2, 177 + _k, True)] = Dated("A21", _reading)
for _fn, _fmt in CURVE_FORMATS.items():
    LAYOUTS[(AFN_CLASS2, _fn, True)] = Curve(_fmt)
# terminal parameters (AFN04/0A F1, F3, F33, F65..F68), clock set (AFN05 F31), version (AFN09 F1)
LAYOUTS.update(params.layouts(AFN_SET, AFN_QUERY, AFN_CONTROL))
# gridedge's extension beyond F248: price campaigns posted (AFN04) and their state (AFN0C)
LAYOUTS[(AFN_SET, campaign_ext.FN, False)] = campaign_ext.PRICE_CAMPAIGN
LAYOUTS[(AFN_CLASS1, campaign_ext.FN, True)] = campaign_ext.CAMPAIGN_STATE
# gridedge's extension in AFN0D's reserved F219..F248: the area's line loss and missed list (p0)
LAYOUTS[(AFN_CLASS2, area_ext.LINE_LOSS_FN, True)] = area_ext.DAILY_LINE_LOSS
LAYOUTS[(AFN_CLASS2, area_ext.MISSED_FN, True)] = area_ext.MISSED_LIST

_NO_DATA = Empty()
_TD_REQUESTS = {TD_DAY: Dated("A20"), TD_MONTH: Dated("A21"), TD_CURVE: Curve()}


def layout(afn, fn, up):
    """The layout of item ``fn`` of ``afn`` in this direction, or None (it cannot be sized)."""
    found = LAYOUTS.get((afn, fn, up))
    if found is not None or up:
        return found
    if afn == AFN_CLASS1:
        return _NO_DATA
    if afn == AFN_CLASS2 and fn in TD_KIND:
        return _TD_REQUESTS[TD_KIND[fn]]
    return None
