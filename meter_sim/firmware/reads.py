"""What a meter answers to a read: a Python value per DI, encoded through the DI registry."""
from protocols.dlt645 import di as DI
from protocols.dlt645 import values

TARIFFS = DI.TARIFFS
SWITCH_FREEZES = {0x05: "prices", 0x07: "ladder"}   # 费率电价 / 阶梯 switch-over freezes


class NoData(Exception):
    """The meter has no such item (ERR bit1)."""


class Unauthorised(Exception):
    """The item exists but may not be read (ERR bit2), e.g. passwords."""


def _energy(meter, kind, tariff, t_true):
    fwd = meter.ledger.at(t_true)
    fwd = [e + meter.base_kwh[i] for i, e in enumerate(fwd)]
    reverse = getattr(meter, "reverse", None)
    rev = reverse.between(meter.t0, t_true) if reverse is not None else [0.0] * TARIFFS
    rows = {0x00: [f + r for f, r in zip(fwd, rev)], 0x01: fwd, 0x02: rev}[kind]
    if tariff == 0:
        return round(sum(rows), 2)
    return round(rows[tariff - 1], 2)


def _freeze_record(book, n):
    rec = book.get(n)
    if rec is None:
        raise NoData()
    return rec


def _freeze_value(meter, d1, record):
    """A freeze record's (meter-clock stamp, true time) answer to DI1: 00 the stamp, 01 the
    forward active block at the true time, 02 the reverse block (none kept: zeros)."""
    stamp, t_true = record
    if d1 == 0:
        return stamp
    if d1 == 2:
        return [0.0] * (TARIFFS + 1)
    return [_energy(meter, 0x01, k, t_true) for k in range(TARIFFS + 1)]


def value_of(meter, di, t):
    """Value of one (non-block) DI at true time ``t``; raises NoData / Unauthorised."""
    d3, d2, d1, d0 = DI.split(di)
    if d3 == 0x00 and d2 in (0x00, 0x01, 0x02) and d1 <= TARIFFS and d0 <= DI.SETTLEMENTS:
        if d0 == 0:
            return _energy(meter, d2, d1, t)
        _, t_true = _freeze_record(meter.settlements, d0)
        return _energy(meter, d2, d1, t_true)
    if d3 == 0x05 and d2 in (0x01, 0x06) and d1 <= 0x02:
        book = meter.daily if d2 == 0x06 else meter.instant
        return _freeze_value(meter, d1, _freeze_record(book, d0))
    if d3 == 0x05 and d2 in SWITCH_FREEZES and d1 <= 0x02 and 1 <= d0 <= DI.SWITCH_FREEZES:
        done = [s for s in getattr(meter, "switches", ()) if s[0] == SWITCH_FREEZES[d2]]
        if d0 > len(done):
            raise NoData()
        return _freeze_value(meter, d1, done[-d0][1:])
    base = di & 0xFFFFFF00
    if base in DI.EVENT_FIELDS and d0 <= DI.EVENT_RECORDS:
        if d0 == 0:
            return meter.events.count(base)
        rec = meter.events.get(base, d0)
        if rec is None:
            raise NoData()
        return rec
    tp = getattr(meter, "three_phase", None)
    if tp is not None:
        v = _phase_value(meter, tp, di, t)
        if v is not None:
            return v
    fn = _SIMPLE.get(di)
    if fn is None:
        raise NoData()
    return fn(meter, t)


def _phase_value(meter, tp, di, t):
    """A three-phase meter's per-phase value of ``di`` (meter_sim.firmware.phases), or None."""
    d3, d2, d1, d0 = DI.split(di)
    if d3 == 0x02 and d2 in (0x01, 0x02) and d0 == 0 and 1 <= d1 <= 3:
        if d2 == 0x01:
            return round(tp.voltages(meter, t)[d1 - 1], 1)
        return round(tp.currents(meter, t)[d1 - 1], 3)
    if d3 == 0x02 and d2 in (0x03, 0x06) and d0 == 0 and d1 <= 3:
        p = tp.powers(meter, t)[d1]
        if d2 == 0x03:
            return round(p, 4)
        pf = meter.power_factor if p else 1.0
        return -pf if p < 0 else pf
    if 0x04000504 <= di <= 0x04000506:
        k = di - 0x04000504
        word = 0
        if k in tp.lost:
            amps = abs(tp.currents(meter, t)[k])
            word |= 1 if amps >= tp.threshold_a else 1 << 7     # 失压 / 断相
        if k in tp.reversed_at(t):
            word |= 1 << 6                                      # 潮流反向
        return word
    if di == 0x04000507:
        return tp.status_word_7()
    if DI.phase_event(di) is not None:
        from meter_sim.firmware.phases import event_value
        v = event_value(meter, di, t)
        if v is None:
            raise NoData()
        return v
    return None


def _password(meter, t):
    raise Unauthorised()


def _wallet(attr):
    def read(meter, t):
        if meter.wallet is None:
            raise NoData()
        balance = meter.balance(t)
        if attr == "remaining":
            return round(meter.wallet.remaining(balance), 2)
        if attr == "overdraft":
            return round(meter.wallet.overdraft(balance), 2)
        return getattr(meter.wallet, attr)
    return read


def _standby_prices(meter, t):
    w = meter.wallet
    if w is None:
        raise NoData()
    prices = w.standby_prices or (None,) * DI.TARIFFS
    return dict(("price_%d" % (k + 1), prices[k]) for k in range(DI.TARIFFS))


def _standby_ladder(meter, t):
    w = meter.wallet
    if w is None:
        raise NoData()
    uppers, adders = w.standby_ladder or ([], [])
    out = {}
    for k in range(DI.LADDER_STEPS):
        out["value_%d" % (k + 1)] = uppers[k] if k < len(uppers) else None
        out["year_day_%d" % (k + 1)] = None
    for k in range(DI.LADDER_STEPS + 1):
        out["price_%d" % (k + 1)] = adders[k] if k < len(adders) else None
    return out


def _switch(attr):
    def read(meter, t):
        if meter.wallet is None:
            raise NoData()
        meter.advance(t)
        return getattr(meter.wallet, attr)
    return read


def _status_1(meter, t):
    return 0


_SIMPLE = {
    0x02010100: lambda m, t: round(m.voltage(t), 1),
    0x02020100: lambda m, t: round(m.current_at(t), 3),
    0x02030000: lambda m, t: round(m.power(t), 4),
    0x02030100: lambda m, t: round(m.power(t), 4),
    0x02060000: lambda m, t: m.power_factor if m.power(t) > 0 else 1.0,
    0x02060100: lambda m, t: m.power_factor if m.power(t) > 0 else 1.0,
    0x02800002: lambda m, t: 50.0,
    0x02800007: lambda m, t: 25.0,
    DI.DI_PRICE: lambda m, t: m.price(t),
    DI.DI_TARIFF_PRICE: lambda m, t: m.price(t),
    DI.DI_LADDER_PRICE: lambda m, t: m.price(t),
    DI.DI_DATE: lambda m, t: m.clock.read(t),
    DI.DI_TIME: lambda m, t: m.clock.read(t),
    DI.DI_ADDRESS: lambda m, t: "".join("%02X" % b for b in reversed(m.addr)),
    DI.DI_METER_NUMBER: lambda m, t: m.meter_number,
    DI.DI_STATUS_1: _status_1,
    DI.DI_STATUS_3: lambda m, t: m.status_word_3(),
    DI.DI_CURVE_INTERVAL: lambda m, t: m.curve_interval // 60,
    DI.DI_SETTLEMENT_DAY: lambda m, t: (2000, 1, m.settlement[0], m.settlement[1], 0, 0),
    DI.DI_ALARM_1: _wallet("alarm_1"),
    DI.DI_ALARM_2: _wallet("alarm_2"),
    DI.DI_OVERDRAFT_LIMIT: _wallet("overdraft_limit"),
    DI.DI_HOARDING_LIMIT: _wallet("hoarding_limit"),
    DI.DI_CLOSE_ALLOWED: _wallet("close_allowed"),
    DI.DI_REMAINING_MONEY: _wallet("remaining"),
    DI.DI_OVERDRAFT_MONEY: _wallet("overdraft"),
    DI.DI_PURCHASE_COUNT: _wallet("purchase_count"),
    DI.DI_PURCHASE_TOTAL: _wallet("purchase_total"),
    DI.DI_STANDBY_PRICES: _standby_prices, DI.DI_STANDBY_LADDER: _standby_ladder,
    DI.DI_PRICE_SWITCH_TIME: _switch("price_switch"),
    DI.DI_LADDER_SWITCH_TIME: _switch("ladder_switch"),
    DI.DI_YEAR_KWH: lambda m, t: _year_kwh(m, t),
}
for _k in range(2, 8):
    _SIMPLE[0x04000500 + _k] = (lambda m, t: m.status_word_3()) if _k == 3 else _status_1
for _k in range(10):
    _SIMPLE[DI.DI_PASSWORD_0 + _k] = _password


def _year_kwh(meter, t):
    if meter.wallet is None:
        raise NoData()
    meter.advance(t)
    return round(meter.wallet.annual(meter.ledger.at(t)), 2)


def encode_read(meter, di, t):
    """Reply data (without DI) for a read of ``di``, blocks included."""
    members = DI.block_members(di)
    if members is not None:
        out = b""
        for m in members:
            item = DI.lookup(m)
            try:
                out += item.encode(value_of(meter, m, t))
            except NoData:
                out += b"\xFF" * item.size      # a period not yet settled
        return out
    item = DI.lookup(di)
    if item is None or DI.is_curve(di):
        raise NoData()
    return item.encode(value_of(meter, di, t))


def curve_points(meter, di, blocks, start, t):
    """(start instant, encoded points) for a load-curve read; missing points are FF-filled."""
    fmt, signed, _ = DI.curve_value_format(di)
    step = meter.curve_interval
    now_c = meter.clock.read(t)
    last = (int(now_c) // step) * step
    n = blocks if blocks else 1
    if start is None:
        first = last - (n - 1) * step
    else:
        first = ((int(start) + step - 1) // step) * step
    out = b""
    for k in range(n):
        c = first + k * step
        if c > last or c < meter.curve_from:
            out += b"\xFF" * values.size(fmt)
            continue
        tt = meter.clock.true_time(c)
        out += values.encode(fmt, _curve_value(meter, di, tt), signed)
    return first, out


def _curve_value(meter, di, t):
    if di == 0x06100101:
        return round(meter.voltage(t), 1)
    if di == 0x06100201:
        return round(meter.current_at(t), 3)
    if di == 0x06100300:
        return round(meter.power(t), 4)
    if di == 0x06100500:
        return meter.power_factor if meter.power(t) > 0 else 1.0
    if di == 0x06100601:
        return _energy(meter, 0x01, 0, t)
    return 0.0
