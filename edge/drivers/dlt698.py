"""The DL/T 698.45 driver: neutral items to coalesced 698 requests and the replies back to values.

Reads coalesce as the standard allows: every real-time item of a job in one GET-Request-
NormalList (one GET-Request-Normal when there is one OAD), the daily freeze as one
GET-Request-Record of 5004 attribute 2 with RSD selector 9 (上第 n 次记录, n = 1: the last
freeze, as the 645 job reads 050601xx) and the two RCSD columns it needs, 2021 freeze time and
0010 forward active energy. Relay commands are ACTION 8000 (129 trip, 130 close, 127/128
alarm) and 8001 (127/128 keep-power), each with a TimeTag that ends when the command expires
(for a meter the archive marks ``secured``: in SECURITY-Request, ciphered + SID_MAC; its reads
plaintext + RN);
the relay state is read back from 8000 attributes 3..5 and 8001 attribute 2 and given as the
645 status word 3 the prepaid journal verifies. Time sync is a broadcast ACTION 4000 127.
Sources: docs/drivers-notes.md.
"""
from protocols.civil import from_civil, iso, to_civil
from protocols.dlt645 import const as K645
from protocols.dlt698 import data as D
from protocols.dlt698 import registry
from protocols.dlt698 import services as V
from protocols.dlt698.apdu import TimeTag
from protocols.dlt698.axdr import OAD, OMD, TI, DateTime
from protocols.dlt698.data import RSD, Data
from protocols.gdw1376_2 import afn as A

from edge.drivers import items as I
from edge.drivers.wire698 import Reply698, Request698, Secured

FREEZE_TIME = OAD(0x2021, 2)          # 数据冻结时间
ENERGY = OAD(0x0010, 2)               # 正向有功电能: total, tariffs 1..4
DAILY = OAD(0x5004, 2)                # 日冻结, record attribute
SETTLEMENT = OAD(0x5005, 2)           # 结算日冻结
LAST_RECORD = RSD(9, [1])             # selector 9: the 1st last record
MINUTE = OAD(0x5002, 2)               # 分钟冻结: the load curve
CURVE_ENERGY = OAD(0x0010, 2, 1)      # forward active total, a curve row's value
POWER_DOWN = OAD(0x3011, 2)           # 电能表掉电事件, record attribute
EVENT_NUMBER = OAD(0x2022, 2)         # 事件记录序号
EVENT_START = OAD(0x201E, 2)          # 事件发生时间
EVENT_END = OAD(0x2020, 2)            # 事件结束时间
VOLTAGE_A = OAD(0x2000, 2, 1)
CURRENT_A = OAD(0x2001, 2, 1)
CLOCK = OAD(0x4000, 2)
RELAY_OPEN = OAD(0x8000, 3)           # 继电器输出状态 (bit set: not closed)
ALARM_STATE = OAD(0x8000, 4)          # 告警状态
COMMAND_STATE = OAD(0x8000, 5)        # 命令状态 (bit set: trip commanded)
KEEP_POWER = OAD(0x8001, 2)           # 保电状态 (enum 1: kept)
RELAY_1 = OAD(0xF205, 2, 1)           # 继电器输出 1, the relay a control names
RELAY_BITS = ((RELAY_OPEN, K645.ST3_RELAY_OPEN), (ALARM_STATE, K645.ST3_ALARM),
              (COMMAND_STATE, K645.ST3_CMD_OPEN))
NORMAL = {I.ENERGY_NOW: (ENERGY,), I.VOLTAGE_A: (VOLTAGE_A,), I.CURRENT_A: (CURRENT_A,),
          I.METER_CLOCK: (CLOCK,),
          I.RELAY_STATUS: (RELAY_OPEN, ALARM_STATE, COMMAND_STATE, KEEP_POWER),
          # a three-phase meter: 2000/2001 A..C, 2004/200A total + A..C, 0020 reverse energy
          I.PHASES: (OAD(0x2000, 2), OAD(0x2001, 2), OAD(0x2004, 2), OAD(0x200A, 2),
                     OAD(0x0020, 2))}
RECORDS = {I.DAILY_FREEZE: (DAILY, LAST_RECORD, [FREEZE_TIME, ENERGY]),
           I.SETTLEMENT_ENERGY: (SETTLEMENT, LAST_RECORD, [FREEZE_TIME, ENERGY]),
           I.POWER_DOWN_COUNT: (POWER_DOWN, LAST_RECORD, [EVENT_NUMBER])}
PARAMETRISED = (I.LOAD_CURVE, I.POWER_DOWN_RECORDS, I.LAST_EVENT)
EVENTS = {"cover_open": 0x301B, "magnetic": 0x302A}   # 开表盖, 恒定磁场干扰 (docs/lineloss.md)


def record_request(item):
    """(OAD, RSD, RCSD) of a record item: a fixed one, a curve span (selector 2 on the freeze
    time, [start, end) every step) or event records by number (selector 2 on 2022)."""
    if isinstance(item, I.Curve):
        end = item.start + item.points * item.step_s
        span = [FREEZE_TIME, Data(D.DATE_TIME_S, date_time(item.start)),
                Data(D.DATE_TIME_S, date_time(end)), Data(D.T_TI, TI(1, max(1, item.step_s // 60)))]
        return MINUTE, RSD(2, span), [FREEZE_TIME, CURVE_ENERGY]
    if isinstance(item, I.PowerDownRecords):
        first = item.count - item.new + 1
        span = [EVENT_NUMBER, Data(D.DOUBLE_LONG_UNSIGNED, first),
                Data(D.DOUBLE_LONG_UNSIGNED, item.count + 1), Data(D.NULL)]
        return POWER_DOWN, RSD(2, span), [EVENT_NUMBER, EVENT_START, EVENT_END]
    if isinstance(item, I.LastEvent):
        if item.family not in EVENTS:
            raise I.Unanswered("698 driver has no %s event" % item.family)
        return OAD(EVENTS[item.family], 2), LAST_RECORD, [EVENT_NUMBER, EVENT_START, EVENT_END]
    return RECORDS[item]
TAG_MAX_MIN = 0xFFFF                  # TI value: long-unsigned minutes


def _trip_data():
    """8000 method 129 {relay, alarm delay 0 min, limit time 0 (until a close), no auto close}."""
    return Data(D.ARRAY, [Data(D.STRUCTURE, [Data(D.T_OAD, RELAY_1), Data(D.UNSIGNED, 0),
                                             Data(D.LONG_UNSIGNED, 0), Data(D.BOOL, False)])])


def _close_data(direct):
    """8000 method 130 {relay, 0 allow close / 1 direct close}."""
    return Data(D.ARRAY, [Data(D.STRUCTURE, [Data(D.T_OAD, RELAY_1),
                                             Data(D.ENUM, 1 if direct else 0)])])


COMMANDS = {I.TRIP: (OMD(0x8000, 129), _trip_data), I.ALLOW_CLOSE: (OMD(0x8000, 130),
                                                                   lambda: _close_data(False)),
            I.DIRECT_CLOSE: (OMD(0x8000, 130), lambda: _close_data(True)),
            I.ALARM: (OMD(0x8000, 127), lambda: Data(D.NULL)),
            I.ALARM_RELEASE: (OMD(0x8000, 128), lambda: Data(D.NULL)),
            I.KEEP_POWER: (OMD(0x8001, 127), lambda: Data(D.NULL)),
            I.KEEP_POWER_RELEASE: (OMD(0x8001, 128), lambda: Data(D.NULL))}


def date_time(t):
    y, m, d, hh, mm, ss, _ = to_civil(t)
    return DateTime(y, m, d, hh, mm, ss)


def seconds(dt):
    """Local seconds of a date_time_s (ValueError for an impossible one)."""
    return from_civil(dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second)


def engineering(oad, d):
    """The scaled value of Data ``d`` of ``oad`` (registry scaler), rounded to the scaler."""
    attr = registry.lookup(oad)
    if attr is None:
        return d.value
    v = registry.scaled(attr, d)
    digits = max(0, -attr.scaler)
    if isinstance(v, list):
        return [round(x, digits) if isinstance(x, float) else x for x in v]
    return round(v, digits) if isinstance(v, float) else v


def _want(d, tag):
    if d is None or d.tag != tag:
        raise I.Unanswered("expected %s, got %r" % (D.TYPE_NAMES.get(tag, tag), d))
    return d


def _number(d):
    if d is None or d.tag not in D.INT_TYPES or isinstance(d.value, bool):
        raise I.Unanswered("expected a number, got %r" % (d,))
    return d


def _energy(d):
    """An energy array: total then the tariffs, numbers only."""
    _want(d, D.ARRAY)
    if not d.value:
        raise I.Unanswered("empty energy array")
    for x in d.value:
        _number(x)
    return d


def _bit0(d):
    if d.tag != D.BIT_STRING or not isinstance(d.value, tuple) or not d.value[1]:
        raise I.Unanswered("not a relay bit-string: %r" % (d,))
    return bool(d.value[1][0] & 0x80)


class Driver698:
    """Items to coalesced 698 requests and back."""

    protocol = "698"
    proto_1376_2 = A.PROTO_698

    def supports(self, meter, item):
        return item in NORMAL or item in RECORDS or I.kind(item) in PARAMETRISED

    def _plan(self, items):
        """(requests' APDUs, where each item's data is: (request index, positions))."""
        for item in items:
            if not self.supports(None, item):
                raise I.Unanswered("698 driver has no %s" % I.kind(item))
        apdus, where = [], {}
        oads = [o for item in items if item in NORMAL for o in NORMAL[item]]
        if oads:
            first = 0
            for item in items:
                if item in NORMAL:
                    n = len(NORMAL[item])
                    where[item] = (0, list(range(first, first + n)))
                    first += n
            apdus.append(V.GetNormal(oads[0]) if len(oads) == 1 else V.GetList(oads))
        for k, item in enumerate(items):
            if item not in NORMAL:
                oad, rsd, columns = record_request(item)
                where[k] = (len(apdus), None)
                apdus.append(V.GetRecord(oad, rsd, columns))
        for k, a in enumerate(apdus):
            a.piid = k + 1
        return apdus, where

    def requests(self, meter, items):
        return [Request698(a, secured=_secured(meter, False)) for a in self._plan(items)[0]]

    def values(self, meter, items, requests, replies):
        _, where = self._plan(items)
        return [self._value(item, where[item if item in NORMAL else k], replies)
                for k, item in enumerate(items)]

    def _value(self, item, place, replies):
        k, positions = place
        reply = replies[k]
        if not isinstance(reply, Reply698) or reply.error:
            raise I.Unanswered("no normal 698 reply for %s: %r" % (item, reply))
        if positions is None:
            return self._record(item, reply.apdu)
        results = _results(reply.apdu)
        if len(results) <= max(positions):
            raise I.Unanswered("the reply for %s has %d results, not %d" % (
                item, len(results), max(positions) + 1))
        cells = [results[p] for p in positions]
        oads = NORMAL[item]
        for oad, r in zip(oads, cells):
            if r.oad != oad or r.data is None:
                raise I.Unanswered("reply for %s names %s" % (oad.text(), r.oad.text()))
        if item == I.METER_CLOCK:
            return seconds(_want(cells[0].data, D.DATE_TIME_S).value)
        if item == I.RELAY_STATUS:
            word = 0
            for (oad, bit), r in zip(RELAY_BITS, cells):
                word |= bit if _bit0(r.data) else 0
            if _want(cells[3].data, D.ENUM).value == 1:
                word |= K645.ST3_KEEP_POWER
            return word
        if item == I.ENERGY_NOW:
            return engineering(oads[0], _energy(cells[0].data))
        if item == I.PHASES:
            got = [engineering(o, _want(c.data, D.ARRAY)) for o, c in zip(oads, cells)]
            return {"voltage": got[0], "current": got[1],
                    "power": [round(w / 1000.0, 4) for w in got[2]], "pf": got[3],
                    "status_7": 0, "reverse_kwh": got[4][0] if got[4] else None}
        return engineering(oads[0], _number(cells[0].data))

    def _record(self, item, apdu):
        rec = getattr(apdu, "record", None)
        if isinstance(item, I.Curve):
            return _curve(item, _rows(rec, apdu))
        if isinstance(item, I.PowerDownRecords):
            return _events(item, _rows(rec, apdu))
        if isinstance(item, I.LastEvent):
            rows = _rows(rec, apdu)
            if not rows:
                return None             # the meter never had one
            return {"start": _stamp(rows[-1].get(EVENT_START.text())),
                    "end": _stamp(rows[-1].get(EVENT_END.text()))}
        if item == I.POWER_DOWN_COUNT:
            rows = _rows(rec, apdu)
            return _number(rows[-1].get(EVENT_NUMBER.text())).value if rows else 0
        if rec is None or not rec.rows:
            raise I.Unanswered("no daily freeze row: %r" % (apdu,))
        row = rec.rows[-1]
        if item == I.SETTLEMENT_ENERGY:
            return engineering(ENERGY, _energy(dict(zip([c.text() for c in rec.columns],
                                                        row)).get(ENERGY.text())))
        cells = dict(zip([c.text() for c in rec.columns], row))
        stamp, energy = cells.get(FREEZE_TIME.text()), cells.get(ENERGY.text())
        if stamp is None or energy is None:
            raise I.Unanswered("daily freeze row without time or energy: %r" % (row,))
        return {"time": seconds(_want(stamp, D.DATE_TIME_S).value),
                "kwh": engineering(ENERGY, _energy(energy))}

    def command(self, meter, action, expires, wall, **_):
        """ACTION carrying ``action``, valid from ``wall`` until ``expires`` (its TimeTag)."""
        omd, data = COMMANDS[action]
        minutes = int(max(1, min(TAG_MAX_MIN, (expires - wall) // 60)))
        req = V.ActionNormal(omd, data(), piid=1)
        req.time_tag = TimeTag(date_time(wall), TI(1, minutes))
        return Request698(req, secured=_secured(meter, True))

    def clock_set(self, meter, wall, deviation_s=0.0):
        """SET 4000 attribute 2 (the meter's date-time) to ``wall``, ciphered for a secured
        meter; its TimeTag holds 5 min beyond the meter's own deviation (the meter judges the
        tag by its clock, the very one that is off)."""
        req = V.SetNormal(CLOCK, Data(D.DATE_TIME_S, date_time(wall)), piid=1)
        minutes = int(min(TAG_MAX_MIN, 5 + abs(deviation_s) // 60 + 1))
        req.time_tag = TimeTag(date_time(wall), TI(1, minutes))
        return [Request698(req, secured=_secured(meter, True))]

    def clock_settable(self, meter):
        """Whether a targeted time set can go: SET 4000 needs no password (its protection is
        the meter's security mode: a secured meter gets it ciphered)."""
        return True

    @staticmethod
    def acked(reply):
        return isinstance(reply, Reply698) and not reply.error

    def time_sync(self, wall):
        """Broadcast ACTION 4000 127 (广播校时) with ``wall``: every 698 meter acts, none answers."""
        return Request698(V.ActionNormal(OMD(0x4000, 127), Data(D.DATE_TIME_S, date_time(wall))),
                          broadcast=True)

    def broadcast_body(self, wall, preamble=4):
        """(1376.2 protocol type 03, frame bytes) of the time sync a carrier module floods."""
        return A.PROTO_698, self.time_sync(wall).encode(b"", preamble)


def _secured(meter, control):
    """How ``meter``'s requests go when its archive entry says ``secured``: a control ciphered
    with SID_MAC, a read in plaintext with an RN (security698's levels for 8000 and the record
    objects); None for a meter that takes plaintext."""
    extra = getattr(meter, "extra", None) or {}
    return Secured(ciphered=control) if extra.get("secured") else None


def _rows(rec, apdu):
    """A record answer's rows as {column text: Data}, oldest first."""
    if rec is None or rec.rows is None:
        raise I.Unanswered("no record answer: %r" % (apdu,))
    names = [c.text() for c in rec.columns]
    return [dict(zip(names, row)) for row in rec.rows]


def _stamp(d):
    """``YYYY-MM-DD hh:mm:ss`` of a date_time_s (None for NULL), as 645 values print it."""
    if d is None or d.tag == D.NULL:
        return None
    return iso(seconds(_want(d, D.DATE_TIME_S).value))


def _curve(item, rows):
    """The 645 curve value: the span's start and one value per instant (None: no row)."""
    out = [None] * item.points
    for row in rows:
        t = seconds(_want(row.get(FREEZE_TIME.text()), D.DATE_TIME_S).value)
        k, off = divmod(t - item.start, item.step_s)
        energy = row.get(CURVE_ENERGY.text())
        if off == 0 and 0 <= k < item.points and energy is not None and energy.tag != D.NULL:
            out[k] = engineering(CURVE_ENERGY, _number(energy))
    return {"start": iso(item.start)[:16], "values": out}


def _events(item, rows):
    """[(record number, {"start", "end"} or None)] newest first, one per number asked."""
    got = {}
    for row in rows:
        n = _number(row.get(EVENT_NUMBER.text())).value
        got[n] = {"start": _stamp(row.get(EVENT_START.text())),
                  "end": _stamp(row.get(EVENT_END.text()))}
    return [(n, got.get(n)) for n in range(item.count, item.count - item.new, -1)]


def _results(apdu):
    if isinstance(apdu, V.GetListReply):
        return apdu.results
    if isinstance(apdu, V.GetNormalReply):
        return [apdu.result]
    raise I.Unanswered("not a GET-Response-Normal(List): %r" % (apdu,))


DRIVER_698 = Driver698()
