"""The DL/T 645 driver: neutral items to 645 reads (one frame per data identifier, the 1997
edition's own DIs where it has them) and the replies back to values; relay commands as 0x1C
controls, time sync as the 0x08 broadcast. DIs: DL/T 645-2007 appendix A (docs/drivers-notes.md).
"""
from protocols.errors import DecodeError as ProtocolDecodeError
from protocols.dlt645 import apdu, const as K, di as DI, values, v1997
from protocols.dlt645.frame import encode_frame
from protocols.gdw1376_2 import afn as A

from edge.drivers import items as I

DI_FREEZE_TIME = 0x05060001          # time of the last daily freeze (上1次日冻结时间)
DI_FREEZE_ENERGY = 0x05060101        # forward active energy of the last daily freeze
DI_ENERGY_NOW = 0x0001FF00           # forward active energy now, total + tariffs
DI_VOLTAGE_A = 0x02010100
DI_CURRENT_A = 0x02020100
DI97_ENERGY = 0x9010
DI97_VOLTAGE = 0xB611
DI97_CURRENT = 0xB621
DI97_DATE, DI97_TIME = 0xC010, 0xC011
DI_SETTLEMENT_ENERGY = 0x0001FF01    # forward active energy at the last settlement day
DI_CURVE_ENERGY = 0x06100601         # forward active energy load curve (0610 0601, NN blocks)
DI_SWITCH_FREEZE_TIME = 0x05050001  # last rate-price switch-over freeze: time (docs/price-notes.md)
DI_SWITCH_FREEZE_ENERGY = 0x05050101   # ... its forward active energy block
DIS_2007 = {I.DAILY_FREEZE: (DI_FREEZE_TIME, DI_FREEZE_ENERGY),
            I.SWITCH_FREEZE: (DI_SWITCH_FREEZE_TIME, DI_SWITCH_FREEZE_ENERGY),
            I.ENERGY_NOW: (DI_ENERGY_NOW,),
            I.POWER_DOWN_COUNT: (DI.EV_POWER_DOWN,),
            I.SETTLEMENT_ENERGY: (DI_SETTLEMENT_ENERGY,),
            I.VOLTAGE_A: (DI_VOLTAGE_A,), I.CURRENT_A: (DI_CURRENT_A,),
            I.METER_CLOCK: (DI.DI_DATE, DI.DI_TIME), I.RELAY_STATUS: (DI.DI_STATUS_3,),
            I.PHASES: (0x0201FF00, 0x0202FF00, 0x0203FF00, 0x0206FF00, 0x04000507, 0x00020000)}
DIS_1997 = {I.DAILY_FREEZE: (DI97_ENERGY,), I.ENERGY_NOW: (DI97_ENERGY,),
            I.VOLTAGE_A: (DI97_VOLTAGE,), I.CURRENT_A: (DI97_CURRENT,),
            I.METER_CLOCK: (DI97_DATE, DI97_TIME)}
CODES = {I.TRIP: K.CTRL_TRIP, I.ALLOW_CLOSE: K.CTRL_ALLOW_CLOSE,
         I.DIRECT_CLOSE: K.CTRL_DIRECT_CLOSE, I.ALARM: K.CTRL_ALARM,
         I.ALARM_RELEASE: K.CTRL_ALARM_RELEASE, I.KEEP_POWER: K.CTRL_KEEP_POWER,
         I.KEEP_POWER_RELEASE: K.CTRL_KEEP_POWER_RELEASE}


def kwh_list(decoded):
    """[total, tariff 1..4] of a decoded 645 energy (a dict of a freeze DI, the list of a
    ..FF.. block; a 1997 total alone: [total])."""
    if isinstance(decoded, list):
        return list(decoded)
    if not isinstance(decoded, dict):
        return [decoded]
    return [decoded["total"]] + [decoded["tariff_%d" % t] for t in range(1, DI.TARIFFS + 1)]


def reply_value(request, reply):
    """The decoded value of one normal reply (Unanswered when there is none)."""
    if not isinstance(reply, (apdu.ReadReply, v1997.ReadReply97)):
        raise I.Unanswered("no normal reply to %r: %r" % (request, reply))
    if isinstance(request, v1997.Read97):
        name, fmt, unit = v1997.ITEMS_1997[request.di]
        return values.decode(fmt, reply.data)
    return DI.decode_value(request.di, reply.data)[1]


def _record(request, reply):
    """One event record's value, None when it was not answered or does not decode."""
    try:
        return reply_value(request, reply)
    except (I.Unanswered, ProtocolDecodeError):
        return None


def meter_time(date_raw, time_raw):
    """Local seconds from a meter's date (YYMMDDWW) and time (hhmmss) registers: on the wire,
    ss mm hh followed by DD MM YY is one YYMMDDhhmmss stamp."""
    raw = bytes(time_raw[:3]) + bytes(date_raw[1:4])
    values.decode("YYMMDDhhmmss", raw)          # range checks: a typed error on a non-clock
    return values.time_seconds("YYMMDDhhmmss", raw)


class Driver645:
    """Items to 645 requests and back; one request per DI."""

    protocol = "645"
    proto_1376_2 = A.PROTO_645_2007

    def _dis(self, meter, item):
        table = DIS_1997 if meter.protocol == "645-1997" else DIS_2007
        if item not in table:
            raise I.Unanswered("%s has no %s" % (meter.protocol, item))
        return table[item]

    def supports(self, meter, item):
        if isinstance(item, I.Curve) and item.di != DI_CURVE_ENERGY:
            return meter.protocol == "645-2007"
        if meter.protocol != "645-1997" and I.kind(item) in (I.LOAD_CURVE, I.POWER_DOWN_RECORDS,
                                                             I.LAST_EVENT):
            return True
        return I.kind(item) in (DIS_1997 if meter.protocol == "645-1997" else DIS_2007)

    def _requests(self, meter, item):
        if not self.supports(meter, item):
            raise I.Unanswered("%s has no %s" % (meter.protocol, I.kind(item)))
        if isinstance(item, I.Curve):
            return [apdu.Read(item.di, blocks=item.points, start=item.start)]
        if isinstance(item, I.PowerDownRecords):
            return [apdu.Read(DI.EV_POWER_DOWN + k) for k in range(1, item.new + 1)]
        if isinstance(item, I.LastEvent):
            return [apdu.Read(DI.event_di(item.family) + 1)]         # 上1次 record
        read = v1997.Read97 if meter.protocol == "645-1997" else apdu.Read
        return [read(d) for d in self._dis(meter, item)]

    def requests(self, meter, items):
        return [q for item in items for q in self._requests(meter, item)]

    def values(self, meter, items, requests, replies):
        """One value per item from the replies (aligned with ``requests``)."""
        out, k = [], 0
        for item in items:
            n = len(self._requests(meter, item))
            out.append(self._value(meter, item, requests[k:k + n], replies[k:k + n]))
            k += n
        return out

    def _value(self, meter, item, requests, replies):
        if isinstance(item, I.PowerDownRecords):
            return [(item.count - k, _record(q, r))
                    for k, (q, r) in enumerate(zip(requests, replies))]
        if isinstance(item, (I.Curve, I.LastEvent)):
            return reply_value(requests[0], replies[0])
        if item == I.POWER_DOWN_COUNT:
            return int(reply_value(requests[0], replies[0]))
        if item == I.METER_CLOCK:
            for q, r in zip(requests, replies):
                reply_value(q, r)
            return meter_time(replies[0].data, replies[1].data)
        decoded = [reply_value(q, r) for q, r in zip(requests, replies)]
        if item in (I.DAILY_FREEZE, I.SWITCH_FREEZE):
            if meter.protocol == "645-1997":
                return {"time": None, "kwh": kwh_list(decoded[0])}
            return {"time": values.time_seconds("YYMMDDhhmm", replies[0].data),
                    "kwh": kwh_list(decoded[1])}
        if item in (I.ENERGY_NOW, I.SETTLEMENT_ENERGY):
            return kwh_list(decoded[0])
        if item == I.RELAY_STATUS:
            return int(decoded[0])
        if item == I.PHASES:
            return {"voltage": decoded[0], "current": decoded[1], "power": decoded[2],
                    "pf": decoded[3], "status_7": int(decoded[4]), "reverse_kwh": decoded[5]}
        return decoded[0]

    def command(self, meter, action, expires, wall, level=0x02, password=b"\x00" * 3,
                operator=b"\x00" * 4):
        """The 0x1C control request carrying ``action`` until ``expires``."""
        return apdu.Control(CODES[action], expires, level=level, password=password,
                            operator=operator)

    def clock_set(self, meter, wall, deviation_s=0.0):
        """The targeted time set of ``meter`` to ``wall``: 04000101 (date) then 04000102 (time,
        last, at the latest instant), with the archived password and level (645-2007 only)."""
        level = int(meter.extra.get("control_level", 4))
        password = bytes.fromhex(str(meter.extra["password"]))[::-1]
        return [apdu.Write(di, DI.lookup(di).encode(int(wall)), level, password)
                for di in (DI.DI_DATE, DI.DI_TIME)]

    def clock_settable(self, meter):
        """Whether a targeted time set can go: 645-2007 with a password in the archive."""
        return meter.protocol == "645-2007" and bool(meter.extra.get("password"))

    @staticmethod
    def acked(reply):
        return isinstance(reply, apdu.Ack)

    def time_sync(self, wall):
        """The broadcast that sets every meter's clock to ``wall`` (645 §7.8: no reply)."""
        return apdu.BroadcastTime(wall)

    def broadcast_body(self, wall, preamble=4):
        """(1376.2 protocol type, frame bytes) of the time sync a carrier module floods."""
        return A.PROTO_645_2007, encode_frame(self.time_sync(wall).to_frame(K.BROADCAST_ADDR),
                                              preamble=preamble)


DRIVER_645 = Driver645()
