"""DL/T 645-1997: same frame, 2-byte identifiers (DI0 first) and its own function codes."""
from protocols.dlt645 import const as K
from protocols.dlt645 import values
from protocols.dlt645.errors import DecodeError
from protocols.dlt645.frame import Frame

# 1997 items (gams constants.py, dlt645 1997 tables); value formats as in 2007.
ITEMS_1997 = {
    0x9010: ("forward_active_total", "XXXXXX.XX", "kWh"),
    0x9011: ("forward_active_tariff_1", "XXXXXX.XX", "kWh"),
    0x9012: ("forward_active_tariff_2", "XXXXXX.XX", "kWh"),
    0x9013: ("forward_active_tariff_3", "XXXXXX.XX", "kWh"),
    0x9014: ("forward_active_tariff_4", "XXXXXX.XX", "kWh"),
    0x9020: ("reverse_active_total", "XXXXXX.XX", "kWh"),
    0xB611: ("voltage_a", "XXXX", "V"),
    0xB612: ("voltage_b", "XXXX", "V"),
    0xB613: ("voltage_c", "XXXX", "V"),
    0xB621: ("current_a", "XX.XX", "A"),
    0xB630: ("active_power_total", "XX.XXXX", "kW"),
    0xC010: ("date", "YYMMDDWW", ""),
    0xC011: ("time", "hhmmss", ""),
    0xC032: ("address", "ADDR", ""),
}


def parse_di(text):
    clean = "".join(text.split())
    if len(clean) != 4:
        raise ValueError("a 645-1997 DI has 4 hex digits: %r" % (text,))
    return int(clean, 16)


def di_bytes(di):
    return bytes([di & 0xFF, (di >> 8) & 0xFF])


class Read97:
    """0x01 read of a 2-byte DI."""

    function = K.F97_READ

    def __init__(self, di):
        self.di = di

    def to_frame(self, addr, preamble=0):
        return Frame(addr, K.F97_READ, di_bytes(self.di), preamble)


class ReadReply97:
    """0x81 normal reply: DI + data."""

    def __init__(self, di, data, more=False):
        self.di = di
        self.data = bytes(data)
        self.more = more

    def to_frame(self, addr, preamble=0):
        ctrl = K.DIR_REPLY | K.F97_READ | (K.FOLLOW_UP if self.more else 0)
        return Frame(addr, ctrl, di_bytes(self.di) + self.data, preamble)

    def value(self):
        item = ITEMS_1997.get(self.di)
        if item is None:
            raise DecodeError("%04X" % self.di, "unknown 645-1997 identifier", di_bytes(self.di))
        name, fmt, unit = item
        return (name, values.decode(fmt, self.data), unit)


class ErrorReply97:
    """0xC1 abnormal reply with the ERR byte."""

    def __init__(self, function, err):
        self.function = function
        self.err = err

    @property
    def reasons(self):
        return K.error_names(self.err)

    def to_frame(self, addr, preamble=0):
        ctrl = K.DIR_REPLY | K.ABNORMAL | self.function
        return Frame(addr, ctrl, bytes([self.err]), preamble)

    def __repr__(self):
        return "ErrorReply97(0x%02X, %s)" % (self.function, ",".join(self.reasons))


def parse_request_97(frame):
    if frame.is_reply:
        raise DecodeError("control", "a reply, not a request", bytes([frame.ctrl]))
    if frame.function != K.F97_READ:
        raise DecodeError("control", "unsupported 645-1997 function", bytes([frame.ctrl]))
    if len(frame.data) != 2:
        raise DecodeError("read97", "needs a 2-byte DI", frame.data)
    return Read97(frame.data[0] | (frame.data[1] << 8))


def parse_reply_97(frame):
    if not frame.is_reply:
        raise DecodeError("control", "a request, not a reply", bytes([frame.ctrl]))
    if frame.is_abnormal:
        if len(frame.data) != 1:
            raise DecodeError("error_reply", "ERR needs 1 byte", frame.data)
        return ErrorReply97(frame.function, frame.data[0])
    if frame.function not in K.FUNCTION_NAMES_1997:
        raise DecodeError("control", "unknown 645-1997 function", bytes([frame.ctrl]))
    if len(frame.data) < 2:
        raise DecodeError("read97_reply", "needs a 2-byte DI", frame.data)
    return ReadReply97(frame.data[0] | (frame.data[1] << 8), frame.data[2:], frame.has_follow_up)


def encode_value_97(di, value):
    name, fmt, unit = ITEMS_1997[di]
    return values.encode(fmt, value)
