"""Q/GDW 1376.1 terminal parameters and their answers: AFN04/0A F1, F3, F33, F59, F65-F68, AFN05 F31
(clock set) and AFN09 F1 (terminal version), as typed layouts (facts: docs/gdw1376_1-notes.md).

Values are dicts; parsing checks sizes and counts, the agent checks ranges (``edge.terminal_params``).
"""
from protocols import bcd, errors as _errors
from protocols.gdw1376_1.dadt import decode_da, decode_dt, encode_da, encode_dt
from protocols.gdw1376_1.errors import DecodeError, EncodeError
from protocols.gdw1376_1.layouts import Empty, Fields, Layout, _take

AFN_VERSION = 0x09                  # 请求终端配置及信息
TASK_START, TASK_STOP = 0x55, 0xAA  # AFN04 F67/F68
PERIOD_UNITS = ("min", "hour", "day", "month")     # F65/F66 D7..D6 of the period byte
MAX_TASK_ITEMS = 64
MAX_READ_SPANS = 24


def _bcd_fields(raw, name):
    try:
        return tuple(bcd.byte_to_int(b, name) for b in raw)
    except _errors.DecodeError:
        raise DecodeError(name, "not BCD", raw) from None


def _bcd_bytes(fields, n, name):
    if fields is None:
        return b"\xEE" * n
    if len(fields) != n:
        raise EncodeError(name, "needs %d BCD fields" % n)
    return bytes(bcd.int_to_byte(v, name) for v in fields)


class UplinkComm(Layout):
    """AFN04 F1: RTS delay (x20 ms), send delay (min), D11..D0 answer timeout (s) + D13..D12
    retries, CON flags (D0 class 1, D1 class 2, D2 class 3 uploads need a confirm), heartbeat
    (min)."""

    def parse(self, data, pos):
        b = _take(data, pos, 6, "F1")
        word = b[2] | (b[3] << 8)
        return {"rts_20ms": b[0], "send_delay_min": b[1], "timeout_s": word & 0x0FFF,
                "retries": (word >> 12) & 0x03, "con_flags": b[4], "heartbeat_min": b[5]}, pos + 6

    def encode(self, value):
        t, r = value.get("timeout_s", 0), value.get("retries", 0)
        if not 0 <= t <= 0x0FFF or not 0 <= r <= 3:
            raise EncodeError("timeout_s", "timeout 0..4095 s, retries 0..3")
        word = t | (r << 12)
        out = [value.get("rts_20ms", 0), value.get("send_delay_min", 0), word & 0xFF, word >> 8,
               value.get("con_flags", 0), value.get("heartbeat_min", 0)]
        if any(not 0 <= x <= 255 for x in out):
            raise EncodeError("F1", "a BIN byte out of 0..255")
        return bytes(out)


class MasterAddr(Layout):
    """AFN04 F3: main IP (4) + port (BIN 2), backup IP + port, APN (16 ASCII, NUL padded)."""

    def parse(self, data, pos):
        b = _take(data, pos, 28, "F3")
        apn = b[12:28].split(b"\x00")[0]
        try:
            text = apn.decode("ascii")
        except UnicodeDecodeError:
            raise DecodeError("apn", "not ASCII", apn, pos + 12) from None
        return {"ip": ".".join(str(x) for x in b[0:4]), "port": b[4] | (b[5] << 8),
                "backup_ip": ".".join(str(x) for x in b[6:10]), "backup_port": b[10] | (b[11] << 8),
                "apn": text}, pos + 28

    def encode(self, value):
        out = b""
        for ip, port in (("ip", "port"), ("backup_ip", "backup_port")):
            out += _ip(value.get(ip, "0.0.0.0"), ip) + _u16(value.get(port, 0), port)
        apn = value.get("apn", "").encode("ascii")
        if len(apn) > 16:
            raise EncodeError("apn", "at most 16 characters")
        return out + apn + b"\x00" * (16 - len(apn))


def _ip(text, name):
    parts = str(text).split(".")
    if len(parts) != 4 or not all(p.isdigit() and 0 <= int(p) <= 255 for p in parts):
        raise EncodeError(name, "%r is no IPv4 address" % (text,))
    return bytes(int(p) for p in parts)


def _u16(v, name):
    if not isinstance(v, int) or not 0 <= v <= 0xFFFF:
        raise EncodeError(name, "%r is not 0..65535" % (v,))
    return bytes([v & 0xFF, v >> 8])


class ReadRun(Layout):
    """AFN04 F33 terminal read-run parameters: n, then per port: port, run control BS16, read
    days BS32 (D0 = day 1), read time A.19 (mm hh), interval (min), meter clock broadcast time
    A.18 (mm hh DD), m, then m read spans (start, end, A.19 each): 14 + 4m bytes a port."""

    def parse(self, data, pos):
        n = _take(data, pos, 1, "n")[0]
        pos += 1
        ports = []
        for _ in range(n):
            b = _take(data, pos, 14, "F33 port")
            m = b[13]
            if m > MAX_READ_SPANS:
                raise DecodeError("m", "%d read spans, at most %d" % (m, MAX_READ_SPANS),
                                  b[13:14], pos + 13)
            spans_raw = _take(data, pos + 14, 4 * m, "spans")
            ports.append({
                "port": b[0], "control": b[1] | (b[2] << 8),
                "days": int.from_bytes(b[3:7], "little"),
                "read_time": _bcd_fields(b[7:9], "read_time"), "interval_min": b[9],
                "clock_time": _bcd_fields(b[10:13], "clock_time"),
                "spans": [(_bcd_fields(spans_raw[4 * k:4 * k + 2], "span"),
                           _bcd_fields(spans_raw[4 * k + 2:4 * k + 4], "span"))
                          for k in range(m)]})
            pos += 14 + 4 * m
        return {"ports": ports}, pos

    def encode(self, value):
        ports = value.get("ports", [])
        if len(ports) > 255:
            raise EncodeError("n", "at most 255 ports")
        out = bytearray([len(ports)])
        for p in ports:
            spans = p.get("spans", [])
            if len(spans) > MAX_READ_SPANS:
                raise EncodeError("m", "at most %d read spans" % MAX_READ_SPANS)
            days = p.get("days", 0)
            if not 0 <= days < 1 << 32:
                raise EncodeError("days", "BS32")
            out += bytes([p["port"] & 0xFF]) + _u16(p.get("control", 0), "control")
            out += days.to_bytes(4, "little") + _bcd_bytes(p.get("read_time"), 2, "read_time")
            out += bytes([p.get("interval_min", 0)]) + _bcd_bytes(p.get("clock_time"), 3,
                                                                   "clock_time")
            out += bytes([len(spans)])
            for a, b in spans:
                out += _bcd_bytes(a, 2, "span") + _bcd_bytes(b, 2, "span")
        return bytes(out)


class ReportTask(Layout):
    """AFN04 F65/F66 scheduled-report task (the task number is the DA's point): period byte
    (D7..D6 unit min/hour/day/month, D5..D0 count), base time A.1, curve ratio R, n, then n
    DA/DT pairs naming the items to report, as ``items`` [(points, items)]."""

    def parse(self, data, pos):
        b = _take(data, pos, 9, "F65 head")
        n = b[8]
        if n > MAX_TASK_ITEMS:
            raise DecodeError("n", "%d items, at most %d" % (n, MAX_TASK_ITEMS), b[8:9], pos + 8)
        items = []
        for k in range(n):
            c = _take(data, pos + 9 + 4 * k, 4, "DA DT")
            items.append((decode_da(c[0], c[1]), decode_dt(c[2], c[3])))
        value, _ = _A1.parse(b, 1)
        return {"unit": PERIOD_UNITS[b[0] >> 6], "period": b[0] & 0x3F, "base": value["base"],
                "ratio": b[7], "items": items}, pos + 9 + 4 * n

    def encode(self, value):
        unit = value.get("unit", "min")
        period = value.get("period", 0)
        if unit not in PERIOD_UNITS or not 0 <= period <= 63:
            raise EncodeError("period", "unit one of %s, period 0..63" % (PERIOD_UNITS,))
        items = value.get("items", [])
        if len(items) > MAX_TASK_ITEMS:
            raise EncodeError("n", "at most %d items" % MAX_TASK_ITEMS)
        out = bytes([(PERIOD_UNITS.index(unit) << 6) | period]) + _A1.encode(
            {"base": value.get("base")}) + bytes([value.get("ratio", 1) & 0xFF, len(items)])
        return out + b"".join(encode_da(pns) + encode_dt(fns) for pns, fns in items)


_A1 = Fields(("base", "A1"))


class ClockA1(Layout):
    """AFN05 F31: the time to set, A.1 ss mm hh DD MM YY with the weekday (1..7, 0 none) in
    D7..D5 of the month byte, as ``{"time": (ss, mm, hh, DD, MM, YY), "weekday"}``."""

    def parse(self, data, pos):
        b = _take(data, pos, 6, "A1")
        weekday = b[4] >> 5
        t = _bcd_fields(b[:4] + bytes([b[4] & 0x1F]) + b[5:], "time")
        return {"time": t, "weekday": weekday}, pos + 6

    def encode(self, value):
        t = value.get("time")
        if t is None or len(t) != 6:
            raise EncodeError("time", "A1 needs ss mm hh DD MM YY")
        weekday = value.get("weekday", 0)
        if not 0 <= weekday <= 7 or not 1 <= t[4] <= 12:
            raise EncodeError("time", "weekday 0..7, month 1..12")
        raw = bytearray(_bcd_bytes(t, 6, "time"))
        raw[4] |= weekday << 5
        return bytes(raw)


VERSION_FIELDS = (("vendor", 4), ("device", 8), ("software", 4), ("software_date", 3),
                  ("capacity", 11), ("protocol", 4), ("hardware", 4), ("hardware_date", 3))


class Version(Layout):
    """AFN09 F1 answer, 41 bytes: vendor code (4 ASCII), device number (8), software version
    (4), its date A.20, capacity code (11), protocol version (4), hardware version (4), its
    date A.20. Text fields lose trailing NUL and spaces."""

    def parse(self, data, pos):
        out = {}
        for name, n in VERSION_FIELDS:
            raw = _take(data, pos, n, name)
            if name.endswith("_date"):
                out[name] = None if 0xEE in raw else _bcd_fields(raw, name)
            else:
                try:
                    out[name] = raw.decode("ascii").rstrip("\x00 ")
                except UnicodeDecodeError:
                    raise DecodeError(name, "not ASCII", raw, pos) from None
            pos += n
        return out, pos

    def encode(self, value):
        out = b""
        for name, n in VERSION_FIELDS:
            v = value.get(name)
            if name.endswith("_date"):
                out += _bcd_bytes(v, 3, name)
                continue
            raw = (v or "").encode("ascii")
            if len(raw) > n:
                raise EncodeError(name, "at most %d characters" % n)
            out += raw + b" " * (n - len(raw))
        return out


UPLINK_COMM, MASTER_ADDR, READ_RUN = UplinkComm(), MasterAddr(), ReadRun()
REPORT_TASK, CLOCK_A1, VERSION = ReportTask(), ClockA1(), Version()
# AFN04 F59 (电能表异常判别阈值设定), 5 bytes: over-difference and flying thresholds (A.22, x.x:
# the register's rise over what the meter could have measured), stopped threshold (BIN, x 15 min),
# clock threshold (BIN, 2 bytes, s); 0 turns a check off (docs/audit.md has the sources)
METER_THRESHOLDS = Fields(("over_difference", "A22"), ("flying", "A22"), ("stopped_15min", "u8"),
                          ("clock_s", "u16"))
TASK_SWITCH = Fields(("switch", "u8"))
PARAM_LAYOUTS = {1: UPLINK_COMM, 3: MASTER_ADDR, 33: READ_RUN, 59: METER_THRESHOLDS,
                 65: REPORT_TASK, 66: REPORT_TASK, 67: TASK_SWITCH, 68: TASK_SWITCH}


def layouts(afn_set, afn_query, afn_control):
    """{(AFN, Fn, up): layout} of the items here, for ``catalog.LAYOUTS``."""
    out = {(afn_control, 31, False): CLOCK_A1, (AFN_VERSION, 1, False): Empty(),
           (AFN_VERSION, 1, True): VERSION}
    for fn, lay in PARAM_LAYOUTS.items():
        out[(afn_set, fn, False)] = lay
        out[(afn_query, fn, False)] = Empty()
        out[(afn_query, fn, True)] = lay
    return out


def a1_of_civil(c):
    """A.1 fields (ss mm hh DD MM YY) and weekday (1 Monday .. 7) of a ``to_civil`` tuple."""
    from protocols.civil import from_civil
    y, m, d, hh, mm, ss = c[:6]
    days = int(from_civil(y, m, d) // 86400)
    return (ss, mm, hh, d, m, y % 100), (days + 3) % 7 + 1


def civil_of_a1(t):
    ss, mm, hh, dd, mo, yy = t
    return 2000 + yy, mo, dd, hh, mm, ss

