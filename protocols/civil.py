"""Civil calendar arithmetic on naive local seconds (MicroPython-safe, no datetime).

Meters and concentrators keep local time without zones; ``t`` is seconds since 1970-01-01 00:00
local. The day algorithms are the proleptic-Gregorian ones of H. Hinnant's date paper.
"""

DAY = 86400


def days_from_civil(y, m, d):
    """Days since 1970-01-01 for a civil date."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z):
    """(year, month, day) of a day number since 1970-01-01."""
    z += 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return (y + (m <= 2), m, d)


def to_civil(t):
    """(Y, M, D, hh, mm, ss, weekday 0=Sunday) of seconds ``t`` (fractions dropped)."""
    t = int(t // 1)
    days = t // DAY
    rem = t - days * DAY
    y, m, d = civil_from_days(days)
    return (y, m, d, rem // 3600, (rem // 60) % 60, rem % 60, (days + 4) % 7)


def from_civil(y, m, d, hh=0, mm=0, ss=0):
    """Seconds of a civil date and time; raises ValueError for impossible dates."""
    if not (1 <= m <= 12 and 1 <= d <= days_in_month(y, m)):
        raise ValueError("no such date %04d-%02d-%02d" % (y, m, d))
    if not (0 <= hh <= 23 and 0 <= mm <= 59 and 0 <= ss <= 59):
        raise ValueError("no such time %02d:%02d:%02d" % (hh, mm, ss))
    return days_from_civil(y, m, d) * DAY + hh * 3600 + mm * 60 + ss


def days_in_month(y, m):
    """Number of days of month ``m`` in year ``y``."""
    if m == 2:
        return 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28
    return 30 if m in (4, 6, 9, 11) else 31


def midnight(t):
    """Start of the day containing ``t``."""
    return (int(t // 1) // DAY) * DAY


def iso(t):
    """``YYYY-MM-DD hh:mm:ss`` for logs and reports."""
    c = to_civil(t)
    return "%04d-%02d-%02d %02d:%02d:%02d" % c[:6]


def parse_local(text):
    """Seconds of ``YYYY-MM-DD[ hh:mm[:ss]]`` (the inverse of ``iso``); ValueError otherwise."""
    date, _, clock = text.strip().partition(" ")
    y, m, d = [int(x) for x in date.split("-")]
    parts = [int(x) for x in clock.split(":")] if clock else []
    if len(parts) > 3:
        raise ValueError("no such time %r" % clock)
    parts += [0] * (3 - len(parts))
    return from_civil(y, m, d, *parts)
