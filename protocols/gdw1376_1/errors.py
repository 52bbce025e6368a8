"""Q/GDW 1376.1 exceptions: one subclass of each shared codec error."""
from protocols import errors as _errors


class DecodeError(_errors.DecodeError):
    """Bytes that are not a valid Q/GDW 1376.1 frame or data unit."""


class EncodeError(_errors.EncodeError):
    """A frame or data unit we were asked to encode is illegal."""
