"""``const`` on MicroPython, identity on CPython."""
try:
    from micropython import const  # type: ignore[import-not-found]
except ImportError:  # CPython
    def const(value):
        return value
