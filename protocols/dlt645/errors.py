"""DL/T 645 exceptions: one subclass of each shared codec error."""
from protocols import errors as _errors


class DecodeError(_errors.DecodeError):
    """Bytes that are not a valid DL/T 645 frame or item."""


class EncodeError(_errors.EncodeError):
    """A frame or item we were asked to encode is illegal."""
