"""One exception family for every codec (MicroPython-safe: single inheritance, no typing)."""


def hexstr(data):
    """Bytes as spaced upper-case hex, e.g. ``68 AA 16``."""
    return " ".join("%02X" % b for b in data)


class ProtocolError(Exception):
    """Base of every codec error."""


class DecodeError(ProtocolError):
    """The peer's bytes are not what the standard allows.

    ``field`` names the part that is wrong, ``raw`` holds the offending bytes and ``offset`` where
    they start in the input (or -1 when unknown).
    """

    def __init__(self, field, message, raw=b"", offset=-1):
        self.field = field
        self.raw = bytes(raw)
        self.offset = offset
        text = "%s: %s" % (field, message)
        if raw:
            text += " [%s]" % hexstr(self.raw[:64])
            if len(self.raw) > 64:
                text += " ... (%d bytes)" % len(self.raw)
        if offset >= 0:
            text += " at offset %d" % offset
        super().__init__(text)


class EncodeError(ProtocolError):
    """We were asked to put something on the wire that the standard does not allow."""

    def __init__(self, field, message):
        self.field = field
        super().__init__("%s: %s" % (field, message))
