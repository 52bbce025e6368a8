"""The 698 meter's object table (对象属性表): what each OAD reads as, which attributes a client
may set and which methods it may call, over the same meter state the 645 slave uses.

Reads go through ``reads.value_of`` with the matching 645 DI (the one place a value is computed),
then take the A-XDR type and scaler of ``protocols.dlt698.registry``; a value the meter does not
have raises ``reads.NoData`` (answered DAR 6, object unavailable). Writes and methods call the
meter's own setters, relay and clock. A single-phase meter: per-phase arrays hold phase A only
(with the total first where the standard has one).
"""
from protocols.civil import from_civil, to_civil
from protocols.dlt645 import const as K645
from protocols.dlt645 import di as DI
from protocols.dlt698 import const as K
from protocols.dlt698 import data as D
from protocols.dlt698.axdr import OAD, DateTime
from protocols.dlt698.data import Data
from meter_sim.firmware import reads

RELAY_OAD = OAD(0xF205, 2, 1)        # 继电器输出 1: the relay a control method names (CHINT
#                                      SF_JugeRelayOAD accepts only F2050201)
NOT_CLOSED, ALARM_ON, TRIP_COMMANDED = 1, 1, 1


class Refused(Exception):
    """The meter answers this attribute or method with ``dar``."""

    def __init__(self, dar):
        Exception.__init__(self, dar)
        self.dar = dar


def date_time(c):
    y, m, d, hh, mm, ss, _ = to_civil(c)
    return Data(D.DATE_TIME_S, DateTime(y, m, d, hh, mm, ss))


def seconds_of(dt):
    """A date_time_s as meter seconds; Refused(DAR 8) for an impossible date."""
    try:
        return from_civil(dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second)
    except ValueError:
        raise Refused(K.DAR_SCOPE_VIOLATED) from None


def bits(word, n):
    """Bit k of ``word`` (LSB numbering, as 645 status words) at bit-string position k (bit 0 is
    the most significant bit of the first byte, A-XDR)."""
    raw = bytearray((n + 7) // 8)
    for k in range(n):
        if (word >> k) & 1:
            raw[k // 8] |= 0x80 >> (k % 8)
    return Data(D.BIT_STRING, (n, bytes(raw)))


def _num(tag, value, scaler):
    return Data(tag, int(round(value * 10 ** -scaler)))


def _value(meter, di, t):
    return reads.value_of(meter, di, t)


def _energy(base_di, tag, scaler):
    """00X0 attribute 2 (scaler -2) / 4 (high precision, -4): total then tariffs 1..4."""
    def get(meter, t):
        return Data(D.ARRAY, [_num(tag, _value(meter, base_di + (k << 8), t), scaler)
                              for k in range(DI.TARIFFS + 1)])
    return get


def _phase_array(di, tag, scaler, with_total=False, factor=1):
    """An array of phase values (a total first ``with_total``): A alone on a single-phase meter,
    A, B, C on a three-phase one (meter_sim.firmware.phases)."""
    def get(meter, t):
        if getattr(meter, "three_phase", None) is not None:
            base = di & 0xFFFF00FF
            dis = ([base] if with_total else []) + [base | (k << 8) for k in (1, 2, 3)]
            return Data(D.ARRAY, [_num(tag, _value(meter, d, t) * factor, scaler) for d in dis])
        v = _num(tag, _value(meter, di, t) * factor, scaler)
        return Data(D.ARRAY, [v, v] if with_total else [v])
    return get


def _single(di, tag, scaler):
    return lambda meter, t: _num(tag, _value(meter, di, t), scaler)


def _structure(dis, tag, scaler):
    return lambda meter, t: Data(D.STRUCTURE, [_num(tag, _value(meter, di, t), scaler)
                                               for di in dis])


def _power_triangle(kind):
    """2005 reactive (var) / 2006 apparent (VA) power from active power and power factor."""
    def get(meter, t):
        p = _value(meter, 0x02030000, t) * 1000.0
        pf = _value(meter, 0x02060000, t) or 1.0
        s = p / pf
        v = max(s * s - p * p, 0.0) ** 0.5 if kind == "reactive" else s
        item = Data(D.DOUBLE_LONG, int(round(v * 10)))
        return Data(D.ARRAY, [item, item])
    return get


def _status_words(meter, t):
    return Data(D.ARRAY, [bits(_value(meter, 0x04000500 + k, t), 16) for k in range(1, 8)])


def _octets_of_digits(text):
    return bytes(int(text[i:i + 2], 16) for i in range(0, len(text) - 1, 2))


def _customer(meter, t):
    if meter.wallet is None:
        raise reads.NoData()
    return Data(D.OCTET_STRING, meter.wallet.customer)


def _relay_config(meter, t):
    r = meter.relay
    return Data(D.STRUCTURE, [Data(D.DOUBLE_LONG_UNSIGNED, int(round(r.large_current_a * 1000))),
                              Data(D.LONG_UNSIGNED, int(r.large_current_max_s // 60))])


def _front(meter):
    return meter.front_end


GETTERS = {
    (0x2000, 2): _phase_array(0x02010100, D.LONG_UNSIGNED, -1),
    (0x2001, 2): _phase_array(0x02020100, D.DOUBLE_LONG, -3),
    (0x2004, 2): _phase_array(0x02030000, D.DOUBLE_LONG, -1, True, 1000),
    (0x2005, 2): _power_triangle("reactive"),
    (0x2006, 2): _power_triangle("apparent"),
    (0x200A, 2): _phase_array(0x02060000, D.LONG, -3, True),
    (0x200F, 2): _single(0x02800002, D.LONG_UNSIGNED, -2),
    (0x2010, 2): _single(0x02800007, D.LONG, -1),
    (0x2014, 2): _status_words,
    (0x2015, 2): lambda m, t: bits(0, 32),      # 跟随上报状态字: no status bit is modelled
    (0x202C, 2): lambda m, t: Data(D.STRUCTURE, [
        _num(D.DOUBLE_LONG_UNSIGNED, _value(m, DI.DI_REMAINING_MONEY, t), -2),
        Data(D.DOUBLE_LONG_UNSIGNED, int(_value(m, DI.DI_PURCHASE_COUNT, t)))]),
    (0x202D, 2): _single(DI.DI_OVERDRAFT_MONEY, D.DOUBLE_LONG_UNSIGNED, -2),
    (0x202E, 2): _single(DI.DI_PURCHASE_TOTAL, D.DOUBLE_LONG_UNSIGNED, -2),
    (0x3320, 2): lambda m, t: Data(D.ARRAY, [Data(D.T_OAD, o) for o in _front(m).new_events()]),
    (0x4000, 2): lambda m, t: date_time(m.clock.read(t)),
    (0x4001, 2): lambda m, t: Data(D.OCTET_STRING, bytes(reversed(m.addr))),
    (0x4002, 2): lambda m, t: Data(D.OCTET_STRING, _octets_of_digits(m.meter_number)),
    (0x4003, 2): _customer,
    (0x401E, 2): _structure((DI.DI_ALARM_1, DI.DI_ALARM_2), D.DOUBLE_LONG_UNSIGNED, -2),
    (0x401F, 2): _structure((DI.DI_OVERDRAFT_LIMIT, DI.DI_HOARDING_LIMIT, DI.DI_CLOSE_ALLOWED),
                            D.DOUBLE_LONG_UNSIGNED, -2),
    (0x4116, 2): lambda m, t: Data(D.ARRAY, [Data(D.STRUCTURE, [
        Data(D.UNSIGNED, m.settlement[0]), Data(D.UNSIGNED, m.settlement[1])])]),
    (0x4300, 7): lambda m, t: Data(D.BOOL, _front(m).follow_report),
    (0x4300, 8): lambda m, t: Data(D.BOOL, _front(m).active_report),
    (0x8000, 2): _relay_config,
    # 8000 attributes 3..5 and 8001: bit 0 is relay 1; set = open / alarm on / trip commanded,
    # as status word 3 bits 4, 7 and 6 that CHINT's firmware reads them from (UNVERIFIED polarity)
    (0x8000, 3): lambda m, t: bits(0 if m.relay.closed else NOT_CLOSED, 8),
    (0x8000, 4): lambda m, t: bits(ALARM_ON if m.status_word_3() & 0x80 else 0, 8),
    (0x8000, 5): lambda m, t: bits(TRIP_COMMANDED if m.relay.cmd_open else 0, 8),
    (0x8001, 2): lambda m, t: Data(D.ENUM, 1 if m.relay.keep_power else 0),
}
for _oi, _di, _tag in ((0x0000, DI.DI_COMBINED_TOTAL, (D.DOUBLE_LONG, D.LONG64)),
                       (0x0010, DI.DI_FORWARD_TOTAL, (D.DOUBLE_LONG_UNSIGNED, D.LONG64_UNSIGNED)),
                       (0x0020, 0x00020000, (D.DOUBLE_LONG_UNSIGNED, D.LONG64_UNSIGNED))):
    GETTERS[(_oi, 2)] = _energy(_di, _tag[0], -2)
    GETTERS[(_oi, 4)] = _energy(_di, _tag[1], -4)


def get(meter, oad, t):
    """Data of ``oad`` at true time ``t``; Refused(DAR) when the meter answers a DAR."""
    getter = GETTERS.get((oad.oi, oad.attr))
    if getter is None:
        raise Refused(K.DAR_OBJECT_UNAVAILABLE)
    try:
        whole = getter(meter, t)
    except reads.NoData:
        raise Refused(K.DAR_OBJECT_UNAVAILABLE) from None
    return element(whole, oad.index)


def element(whole, index):
    if index == 0:
        return whole
    if whole.tag not in (D.ARRAY, D.STRUCTURE) or index > len(whole.value):
        raise Refused(K.DAR_OBJECT_UNDEFINED)
    return whole.value[index - 1]


# --- SET -------------------------------------------------------------------------------------

def _want(d, *tags):
    if d.tag not in tags:
        raise Refused(K.DAR_TYPE_UNMATCHED)
    return d.value


def _members(d, n):
    """The first ``n`` members of a structure (DAR 7 when it is not one or is shorter)."""
    members = _want(d, D.STRUCTURE)
    if len(members) < n:
        raise Refused(K.DAR_TYPE_UNMATCHED)
    return members[:n]


def _money_setter(dis):
    """401E / 401F: the whole structure or one element, each through the 645 wallet writer."""
    def setter(meter, t, index, d, operator):
        from meter_sim.firmware.meter import _WRITERS
        items = _want(d, D.STRUCTURE) if index == 0 else [d]
        targets = dis if index == 0 else dis[index - 1:index]
        if index > len(dis) or len(items) != len(targets):
            raise Refused(K.DAR_OBJECT_UNDEFINED if index > len(dis) else K.DAR_TYPE_UNMATCHED)
        for di, item in zip(targets, items):
            value = _want(item, D.DOUBLE_LONG_UNSIGNED) / 100.0
            if _WRITERS[di](meter, None, value, t) is False:
                raise Refused(K.DAR_OBJECT_UNAVAILABLE)
    return setter


def _set_clock(meter, t, index, d, operator):
    meter._set_clock(t, seconds_of(_want(d, D.DATE_TIME_S)), operator)


def _set_settlement(meter, t, index, d, operator):
    days = _want(d, D.ARRAY)
    if not days:
        raise Refused(K.DAR_SCOPE_VIOLATED)
    day, hour = [_want(x, D.UNSIGNED) for x in _members(days[0], 2)]
    if not (1 <= day <= 28 and 0 <= hour <= 23):
        raise Refused(K.DAR_SCOPE_VIOLATED)
    meter.settlement = (day, hour)


def _set_relay_config(meter, t, index, d, operator):
    amps, minutes = _members(d, 2)
    meter.relay.large_current_a = _want(amps, D.DOUBLE_LONG_UNSIGNED) / 1000.0
    meter.relay.large_current_max_s = _want(minutes, D.LONG_UNSIGNED) * 60.0


def _set_flag(name):
    def setter(meter, t, index, d, operator):
        setattr(meter.front_end, name, _want(d, D.BOOL))
    return setter


SETTERS = {
    (0x4000, 2): _set_clock,
    (0x401E, 2): _money_setter((DI.DI_ALARM_1, DI.DI_ALARM_2)),
    (0x401F, 2): _money_setter((DI.DI_OVERDRAFT_LIMIT, DI.DI_HOARDING_LIMIT, DI.DI_CLOSE_ALLOWED)),
    (0x4116, 2): _set_settlement,
    (0x4300, 7): _set_flag("follow_report"),
    (0x4300, 8): _set_flag("active_report"),
    (0x8000, 2): _set_relay_config,
}
UNRECORDED_SETS = ((0x4000, 2), (0x4300, 7), (0x4300, 8))   # no programming event for these


def set_attribute(meter, oad, d, t, operator):
    """Apply a SET; Refused(DAR) when the meter refuses it. A programming event (3012) names
    the OAD, as the 645 slave's names the DI."""
    setter = SETTERS.get((oad.oi, oad.attr))
    if setter is None:
        raise Refused(K.DAR_READ_WRITE_DENIED if (oad.oi, oad.attr) in GETTERS
                      else K.DAR_OBJECT_UNAVAILABLE)
    if oad.index and (oad.oi, oad.attr) not in ((0x401E, 2), (0x401F, 2)):
        raise Refused(K.DAR_OBJECT_UNDEFINED)
    setter(meter, t, oad.index, d, operator)
    if (oad.oi, oad.attr) not in UNRECORDED_SETS:
        meter._programmed(t, operator, (oad.oi << 16) | (oad.attr << 8) | oad.index)


# --- ACTION ----------------------------------------------------------------------------------

def _relay_items(d, fields):
    """The array of structures a control method takes, each naming relay 1 first (F2050201)."""
    out = []
    for item in _want(d, D.ARRAY):
        members = _members(item, fields)
        if _want(members[0], D.T_OAD) != RELAY_OAD:
            raise Refused(K.DAR_OBJECT_UNAVAILABLE)
        out.append(members)
    if not out:
        raise Refused(K.DAR_TYPE_UNMATCHED)
    return out


def _trip(meter, t, d, operator):
    """8000 method 129 跳闸: {relay OAD, alarm delay (min), power-limit time (min, 0 = until a
    close), automatic close (bool)} (CHINT Comm_698.c: a non-zero limit time restores by itself,
    to direct close when the bool is true, else to allow-close)."""
    for members in _relay_items(d, 4):
        delay = _want(members[1], D.UNSIGNED) * 60.0
        limit = _want(members[2], D.LONG_UNSIGNED) * 60.0
        auto = _want(members[3], D.BOOL)
        if delay or limit:
            meter.relay.trip(t, operator, delay_s=delay, restore_s=limit or None,
                             restore_direct=auto)
        else:
            meter._execute(K645.CTRL_TRIP, operator, t)


def _close(meter, t, d, operator):
    """8000 method 130 合闸: {relay OAD, command enum: 0 allow close, 1 direct close}."""
    for members in _relay_items(d, 2):
        command = _want(members[1], D.ENUM)
        if command not in (0, 1):
            raise Refused(K.DAR_SCOPE_VIOLATED)
        meter._execute(K645.CTRL_DIRECT_CLOSE if command else K645.CTRL_ALLOW_CLOSE, operator, t)


def _execute(command):
    return lambda meter, t, d, operator: meter._execute(command, operator, t)


def _broadcast_time(meter, t, d, operator):
    """4000 method 127 广播校时 (date_time_s): the 645 broadcast rules (5 min, once a day)."""
    meter._broadcast_time(seconds_of(_want(d, D.DATE_TIME_S)), t)


def _instant_freeze(meter, t, d, operator):
    meter.instant.add(meter.clock.read(t), t)


def _confirm_report(meter, t, d, operator):
    meter.front_end.acknowledge()


METHODS = {
    (0x8000, 127): _execute(K645.CTRL_ALARM),
    (0x8000, 128): _execute(K645.CTRL_ALARM_RELEASE),
    (0x8000, 129): _trip,
    (0x8000, 130): _close,
    (0x8001, 127): _execute(K645.CTRL_KEEP_POWER),
    (0x8001, 128): _execute(K645.CTRL_KEEP_POWER_RELEASE),
    (0x8001, 129): _execute(K645.CTRL_KEEP_POWER_RELEASE),
    (0x4000, 127): _broadcast_time,
    (0x5000, 3): _instant_freeze,               # 冻结对象 method 3: trigger one freeze
    (0x2015, 127): _confirm_report,             # 确认跟随上报状态字 (CHINT WtOI 20157F00)
}


def action(meter, omd, d, t, operator):
    """Call a method; Refused(DAR) when refused. Methods return no data."""
    fn = METHODS.get((omd.oi, omd.method))
    if fn is None:
        raise Refused(K.DAR_OBJECT_UNAVAILABLE)
    fn(meter, t, d, operator)
