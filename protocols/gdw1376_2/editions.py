"""The two editions a module speaks: Q/GDW 1376.2-2013 and Q/GDW 10376.2-2019.

The 2019 edition replaces 2013 and adds, in its own words, power-outage reporting and HPLC
(foreword; table 7 lists every AFN/Fn). What 2013 lacks is read from a public implementation of
2013 written before its 2019 update (docs/gdw1376_2-editions.md names the sources): the units in
``ADDED_2019`` below, the deny codes 109..111 and 06F5 protocol types 04/05.
"""
EDITION_2013 = "2013"
EDITION_2019 = "2019"
EDITIONS = (EDITION_2013, EDITION_2019)

# (AFN, Fn) a concentrator may send, 10376.2-2019 table 7 (the module's answers and own reports
# belong to the same pairs)
_2019 = {
    0x00: (1, 2), 0x01: (1, 2, 3), 0x02: (1,),
    0x03: (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 16, 100),
    0x04: (1, 2, 3), 0x05: (1, 2, 3, 4, 5, 6, 16, 100, 101, 200), 0x06: (1, 2, 3, 4, 5),
    0x10: (1, 2, 3, 4, 5, 6, 7, 9, 21, 31, 40, 100, 101, 104, 111, 112),
    0x11: (1, 2, 3, 4, 5, 6, 100, 101, 102), 0x12: (1, 2, 3), 0x13: (1,), 0x14: (1, 2, 3, 4),
    0x15: (1,), 0xF1: (1,),
}
ADDED_2019 = {(0x03, 12), (0x03, 16), (0x05, 6), (0x05, 16), (0x05, 200), (0x10, 7), (0x10, 9),
              (0x10, 21), (0x10, 31), (0x10, 40), (0x10, 104), (0x10, 111), (0x10, 112),
              (0x11, 100), (0x11, 101), (0x11, 102), (0x14, 4), (0xF1, 1)}
_DEFINED = {
    EDITION_2019: {(afn, fn) for afn, fns in _2019.items() for fn in fns},
}
_DEFINED[EDITION_2013] = _DEFINED[EDITION_2019] - ADDED_2019

_DENY_2019_ONLY = (109, 110, 111)
_DENY_FALLBACK = 9          # "master node busy": what a 2013 module says in their place


def check(edition):
    """``edition`` itself, or ValueError naming the editions there are."""
    if edition not in EDITIONS:
        raise ValueError("edition must be one of %s, got %r" % (", ".join(EDITIONS), edition))
    return edition


def defines(edition, afn, fn):
    """Whether ``edition`` defines the data unit (AFN, Fn)."""
    return (afn, fn) in _DEFINED[check(edition)]


def deny_code(edition, code):
    """The deny code a module of ``edition`` sends for ``code`` (2013 has no 109..111)."""
    if check(edition) == EDITION_2013 and code in _DENY_2019_ONLY:
        return _DENY_FALLBACK
    return code
