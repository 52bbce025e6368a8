"""Record attributes of the 698 meter (记录型属性): freezes and events as rows, chosen by an RSD and
projected on RCSD columns.

Freezes (class 9): 5000 instant, 5002 minute (the load curve at the meter's curve interval),
5004 daily, 5005 settlement-day, 5006 monthly. Their rows are the meter's own freeze books
(``meter.daily`` ...) or, for the curve, the interval instants since installation; every row has
the fixed columns 2023 freeze record number and 2021 freeze time (CHINT Comm_698.c
``FixedFreezeOAD``) and the associated OADs (attribute 3) read at the row's true time through the
object table. Events (class 7): the meter's event log families as 3011 power down, 3012
programming, ... with 2022 record number, 201E start, 2020 end, 2024 source, 3300 report state
(the standard event unit of a public Wasion firmware table) and their associated OADs.

Selectors: 0 all, 1 one value of the time/number column, 2 a [start, end) range with an optional
interval, 3 several of those, 9 the n-th last record, 10 the last n records; the others are
refused with DAR 3, as CHINT's meter refuses all but 1, 2, 9. Rows go oldest first.
"""
from protocols.civil import DAY, from_civil, to_civil
from protocols.dlt645 import di as DI
from protocols.dlt698 import const as K
from protocols.dlt698 import data as D
from protocols.dlt698.axdr import OAD, ROAD
from protocols.dlt698.data import Data
from meter_sim.firmware import objects698 as O
from meter_sim.firmware.freeze import FreezeBook

FREEZE_NUMBER = OAD(0x2023, 2)      # 冻结记录序号
FREEZE_TIME = OAD(0x2021, 2)        # 数据冻结时间
EVENT_NUMBER = OAD(0x2022, 2)       # 事件记录序号
EVENT_START = OAD(0x201E, 2)        # 事件发生时间
EVENT_END = OAD(0x2020, 2)          # 事件结束时间
EVENT_SOURCE = OAD(0x2024, 2)       # 事件发生源
REPORT_STATE = OAD(0x3300, 2)       # 事件上报状态
MAX_ROWS = 400                      # rows in one answer (ours; link segmentation carries them)
CURVE_DEPTH = 96 * 62               # minute-freeze rows kept: 62 days of 15-minute points
TI_SECONDS = {0: 1, 1: 60, 2: 3600, 3: DAY}
FREEZE_ENERGY = [OAD(0x0000, 2), OAD(0x0010, 2), OAD(0x0020, 2)]
CURVE_COLUMNS = [OAD(0x0010, 2), OAD(0x2000, 2), OAD(0x2001, 2), OAD(0x2004, 2),
                 OAD(0x200A, 2)]


def _months(c):
    y, m = to_civil(c)[:2]
    return y * 12 + m


def next_month(c):
    """First instant of the month after ``c`` (5006 freezes at 00:00 of day 1)."""
    y, m = to_civil(c)[:2]
    return from_civil(y + (m == 12), m % 12 + 1, 1)


class Records:
    """One record attribute: ``stored(meter, t)`` rows oldest first, each (number, key instant
    c, true time, raw record); ``cell`` the Data of one column of one row."""

    number_column = FREEZE_NUMBER
    time_column = FREEZE_TIME

    def __init__(self, columns):
        self.columns = list(columns)

    def all_columns(self):
        return [self.number_column, self.time_column] + self.columns

    def between(self, meter, t, a, b):
        return [r for r in self.stored(meter, t) if a <= r[1] < b]

    def key(self, column, row):
        if column == self.number_column:
            return row[0]
        if column == self.time_column:
            return row[1]
        raise O.Refused(K.DAR_READ_WRITE_DENIED)


class FreezeRecords(Records):
    def __init__(self, book, serial, columns, period, depth):
        Records.__init__(self, columns)
        self.book, self.serial, self.period, self.depth = book, serial, period, depth

    def stored(self, meter, t):
        book = self.book(meter)
        book.sync(t, meter.clock)
        recs = list(reversed(book.records))
        return [(self.serial(meter, c, k, len(recs)), c, tt, None) for k, (c, tt) in enumerate(recs)]

    def cell(self, meter, t, row, column):
        if column == FREEZE_NUMBER:
            return Data(D.DOUBLE_LONG_UNSIGNED, row[0])
        if column == FREEZE_TIME:
            return O.date_time(row[1])
        if OAD(column.oi, column.attr) not in self.columns:
            return Data(D.NULL)
        try:
            return O.get(meter, column, row[2])
        except O.Refused:
            return Data(D.NULL)

    def association(self, meter):
        """Attribute 3 关联对象属性表: {period, OAD, depth} per associated column."""
        return Data(D.ARRAY, [Data(D.STRUCTURE, [
            Data(D.LONG_UNSIGNED, self.period(meter)), Data(D.T_OAD, o),
            Data(D.LONG_UNSIGNED, self.depth)]) for o in self.columns])


class CurveRecords(FreezeRecords):
    """5002 minute freeze: every ``meter.curve_interval`` since installation, computed when read."""

    def __init__(self):
        FreezeRecords.__init__(self, None, None, CURVE_COLUMNS,
                               lambda m: m.curve_interval // 60, CURVE_DEPTH)

    def _span(self, meter, t):
        step = meter.curve_interval
        first = int(-(-meter.curve_from // step)) * step      # no instant before installation
        last = (int(meter.clock.read(t)) // step) * step
        return step, first, last

    def _rows(self, meter, step, first, lo, hi):
        lo = max(lo, first)
        lo = -(-lo // step) * step
        return [((c - first) // step + 1, c, meter.clock.true_time(c), None)
                for c in range(lo, hi + 1, step)]

    def stored(self, meter, t):
        step, first, last = self._span(meter, t)
        return self._rows(meter, step, first, max(first, last - (CURVE_DEPTH - 1) * step), last)

    def between(self, meter, t, a, b):
        step, first, last = self._span(meter, t)
        lo = max(int(a), last - (CURVE_DEPTH - 1) * step)
        hi = min(last, int(b) - 1, lo + MAX_ROWS * step)
        return self._rows(meter, step, first, lo, hi) if hi >= lo else []


class EventRecords(Records):
    """An event family of the meter's log: ``start``/``end`` index the 645 record's times,
    ``extra`` maps associated OADs to a function of the record giving their Data."""

    number_column = EVENT_NUMBER
    time_column = EVENT_START

    def __init__(self, family, start, end=None, extra=None):
        self.extra = extra or {}
        Records.__init__(self, sorted(self.extra, key=lambda o: o.text()))
        self.family, self.start, self.end = family, start, end

    def all_columns(self):
        return [EVENT_NUMBER, EVENT_START, EVENT_END, EVENT_SOURCE, REPORT_STATE] + self.columns

    def stored(self, meter, t):
        recs = meter.events.records.get(self.family, [])
        total = meter.events.count(self.family)
        return [(total - len(recs) + 1 + k, rec[self.start], None, rec)
                for k, rec in enumerate(reversed(recs))]

    def cell(self, meter, t, row, column):
        rec = row[3]
        if column == EVENT_NUMBER:
            return Data(D.DOUBLE_LONG_UNSIGNED, row[0])
        if column == EVENT_START:
            return O.date_time(row[1])
        if column == EVENT_END:
            end = rec[self.end] if self.end is not None else None
            return O.date_time(end) if end is not None else Data(D.NULL)
        if column == REPORT_STATE:
            return Data(D.ARRAY, [])
        fn = self.extra.get(column)
        return fn(rec) if fn is not None else Data(D.NULL)

    def association(self, meter):
        return Data(D.ARRAY, [Data(D.T_OAD, o) for o in self.columns])


def _kwh(i):
    return lambda rec: (Data(D.DOUBLE_LONG_UNSIGNED, int(round(rec[i] * 100)))
                        if rec[i] is not None else Data(D.NULL))


def _when(i):
    return lambda rec: O.date_time(rec[i]) if rec[i] is not None else Data(D.NULL)


def _programmed_oads(rec):
    oads = []
    for raw in rec[2:]:
        v = raw[0] | (raw[1] << 8) | (raw[2] << 16) | (raw[3] << 24)
        if v != 0xFFFFFFFF:
            oads.append(Data(D.T_OAD, OAD(v >> 16, (v >> 8) & 0x1F, v & 0xFF)))
    return Data(D.ARRAY, oads)


AT_START = OAD(0x0010, 2, 1, 1)     # 00102201: forward active total at the event (feature 1)
AT_END = OAD(0x0010, 2, 1, 4)       # 00108201: the same after it (feature 4)
REV_START = OAD(0x0020, 2, 1, 1)    # 00202201: reverse active total at the event
REV_END = OAD(0x0020, 2, 1, 4)      # 00208201: ... after it
SOURCES = {
    0x5000: FreezeRecords(lambda m: m.instant, lambda m, c, k, n: k + 1, FREEZE_ENERGY,
                          lambda m: 0, DI.INSTANT_FREEZES),
    0x5002: CurveRecords(),
    0x5004: FreezeRecords(lambda m: m.daily,
                          lambda m, c, k, n: int(c // DAY) - int(m.curve_from // DAY),
                          FREEZE_ENERGY, lambda m: 1, DI.DAILY_FREEZES),
    0x5005: FreezeRecords(lambda m: m.settlements,
                          lambda m, c, k, n: _months(c) - _months(m.curve_from),
                          FREEZE_ENERGY, lambda m: 1, DI.SETTLEMENTS),
    0x5006: FreezeRecords(lambda m: m.front_end.monthly,
                          lambda m, c, k, n: _months(c) - _months(m.curve_from),
                          FREEZE_ENERGY, lambda m: 1, 12),
    0x3011: EventRecords(DI.EV_POWER_DOWN, 0, 1),
    0x3012: EventRecords(DI.EV_PROGRAMMING, 0, None, {OAD(0x3302, 2, 6): _programmed_oads}),
    0x3013: EventRecords(DI.EV_METER_CLEAR, 0, None, {AT_START: _kwh(2)}),
    0x3015: EventRecords(DI.EV_EVENT_CLEAR, 0),
    0x3016: EventRecords(DI.EV_TIME_SET, 1, None, {OAD(0x4000, 2, 0, 1): _when(1),
                                                    OAD(0x4000, 2, 0, 4): _when(2)}),
    0x301B: EventRecords(DI.EV_COVER_OPEN, 0, 1, {AT_START: _kwh(2), AT_END: _kwh(3)}),
    0x301F: EventRecords(DI.EV_TRIP, 0, None, {AT_START: _kwh(2)}),
    0x3020: EventRecords(DI.EV_CLOSE, 0, None, {AT_START: _kwh(2)}),
    0x302A: EventRecords(DI.EV_MAGNETIC, 0, 1, {AT_START: _kwh(2), REV_START: _kwh(3),
                                               AT_END: _kwh(4), REV_END: _kwh(5)}),
    0x302B: EventRecords(DI.EV_RELAY_FAULT, 0, 1),
}
FAMILY_OI = dict((src.family, oi) for oi, src in SOURCES.items() if isinstance(src, EventRecords))


def monthly_book(meter):
    """The 5006 book the 698 front end keeps (the 645 slave has no monthly freeze DI)."""
    return FreezeBook(12, next_month, meter.curve_from)


def attribute(meter, oad, t):
    """GET-Normal of a record object's non-record attributes (3 association, 4 count, 5 max)."""
    src = SOURCES[oad.oi]
    if oad.attr == 3:
        return O.element(src.association(meter), oad.index)
    if oad.attr == 4 and isinstance(src, EventRecords):
        return Data(D.LONG_UNSIGNED, len(src.stored(meter, t)))
    if oad.attr == 5 and isinstance(src, EventRecords):
        return Data(D.LONG_UNSIGNED, meter.events.capacity)
    raise O.Refused(K.DAR_OBJECT_CLASS_INCONSISTENT if oad.attr == 2 else K.DAR_OBJECT_UNAVAILABLE)


def _key_value(d):
    if d.tag == D.DATE_TIME_S:
        return O.seconds_of(d.value)
    if d.tag in D.INT_TYPES and d.tag != D.T_OI:
        return d.value
    raise O.Refused(K.DAR_TYPE_UNMATCHED)


def _range(src, meter, t, fields):
    column, start, end, interval = fields
    a, b = _key_value(start), _key_value(end)
    if column == src.time_column:
        rows = src.between(meter, t, a, b)
    else:
        rows = [r for r in src.stored(meter, t) if a <= src.key(column, r) < b]
    step = 0
    if interval.tag == D.T_TI:
        if interval.value.unit not in TI_SECONDS or column != src.time_column:
            raise O.Refused(K.DAR_READ_WRITE_DENIED)
        step = interval.value.value * TI_SECONDS[interval.value.unit]
    elif interval.tag != D.NULL:
        step = _key_value(interval)
    if step:
        rows = [r for r in rows if (src.key(column, r) - a) % step == 0]
    return rows


def select(src, meter, t, rsd):
    """The rows ``rsd`` chooses, oldest first, at most MAX_ROWS; Refused(DAR 3) otherwise."""
    s, f = rsd.selector, rsd.fields
    if s == 0:
        rows = src.stored(meter, t)
    elif s == 1:
        want = _key_value(f[1])
        if f[0] == src.time_column:
            rows = src.between(meter, t, want, want + 1)
        else:
            rows = [r for r in src.stored(meter, t) if src.key(f[0], r) == want]
    elif s == 2:
        rows = _range(src, meter, t, f)
    elif s == 3:
        rows = []
        for fields in f:
            rows += _range(src, meter, t, fields)
    elif s in (9, 10):
        stored = src.stored(meter, t)
        n = f[0]
        if s == 9:
            rows = [stored[-n]] if 1 <= n <= len(stored) else []
        else:
            rows = stored[-n:] if n else []
    else:
        raise O.Refused(K.DAR_READ_WRITE_DENIED)
    return rows[:MAX_ROWS]


def read(meter, oad, rsd, columns, t):
    """(columns echoed, rows of Data) of a GET-Record; Refused(DAR) when refused."""
    src = SOURCES.get(oad.oi)
    if src is None or oad.attr != 2 or oad.index:
        raise O.Refused(K.DAR_OBJECT_CLASS_INCONSISTENT if src is None and O.GETTERS.get(
            (oad.oi, oad.attr)) else K.DAR_OBJECT_UNAVAILABLE)
    for c in columns:
        if isinstance(c, ROAD):
            raise O.Refused(K.DAR_READ_WRITE_DENIED)   # CHINT: only OAD columns
    cols = list(columns) or src.all_columns()
    rows = select(src, meter, t, rsd)
    return cols, [[src.cell(meter, t, row, c) for c in cols] for row in rows]
