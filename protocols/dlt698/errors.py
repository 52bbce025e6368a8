"""DL/T 698.45 exceptions: one subclass of each shared codec error."""
from protocols import errors as _errors


class DecodeError(_errors.DecodeError):
    """Bytes that are not a valid DL/T 698.45 frame, APDU or datum."""


class EncodeError(_errors.EncodeError):
    """A frame, APDU or datum we were asked to encode is illegal."""
