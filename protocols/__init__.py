"""Wire codecs: bytes in, typed frames out, and back. No I/O, no clock, no globals.

Sub-packages: ``dlt645`` (DL/T 645-2007/1997, MicroPython-safe). Shared helpers live in
``errors``, ``bcd`` and ``civil``.
"""
