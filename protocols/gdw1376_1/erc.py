"""Q/GDW 1376.1 event records (appendix on events, carried in AFN0E F1/F2 as ERC, Le, data).

One class per standard record, its fields declared once as (name, format); ``decode_event(erc,
data)`` gives the typed record, ``record.encode()`` its data bytes and ``entry(record)`` the
``{"erc", "data"}`` dict an AFN0E unit value lists. Formats are those of ``layouts.Fields`` plus
``point``: 2 bytes, D11..D0 the measuring point, D15 1 = the condition began, 0 = it ended.
A record longer than its layout keeps the surplus as ``extra`` (provincial variants append
fields); a shorter one is a ``DecodeError``. ERC64/65 are this project's former vendor codes,
still decoded for older stores and captures. Layout sources: docs/gdw1376_1-notes.md.
"""
from protocols import bcd, errors as _errors
from protocols.gdw1376_1.dadt import decode_da, decode_dt, encode_da, encode_dt
from protocols.gdw1376_1.errors import DecodeError, EncodeError
from protocols.gdw1376_1.layouts import field_size, read_field, write_field

POINT_MASK, BEGAN = 0x0FFF, 0x8000
SIZES = {"point": 2, "ascii4": 4, "count3": 3}


class EventRecord:
    """Base of the typed records: ``fields`` is [(name, format)] in wire order."""

    erc = 0
    title = ""
    fields: tuple = ()
    vendor = False

    def __init__(self, **values):
        names = self.names()
        unknown = set(values) - set(names)
        if unknown:
            raise TypeError("%s has no field %s" % (type(self).__name__, sorted(unknown)))
        for name in names:
            setattr(self, name, values.get(name))

    @classmethod
    def names(cls):
        out = []
        for name, fmt in cls.fields:
            out += ["pn", "began"] if fmt == "point" else [name]
        return out + ["extra"]

    def values(self):
        return dict((n, getattr(self, n)) for n in self.names())

    @classmethod
    def decode(cls, data):
        values, pos = _read(cls.fields, data, 0, cls.erc)
        values["extra"] = bytes(data[pos:]) or None
        return cls(**values)

    def encode(self):
        return _write(self.fields, self.values()) + (self.extra or b"")

    def __eq__(self, other):
        return type(self) is type(other) and self.values() == other.values()

    def __repr__(self):
        shown = ", ".join("%s=%r" % kv for kv in self.values().items() if kv[1] is not None)
        return "%s(%s)" % (type(self).__name__, shown)


def _read(fields, data, pos, erc):
    values = {}
    for name, fmt in fields:
        n = SIZES.get(fmt) or field_size(fmt)
        if pos + n > len(data):
            raise DecodeError("ERC%d %s" % (erc, name), "needs %d bytes, %d left" % (
                n, len(data) - pos), bytes(data[pos:]), pos)
        raw = bytes(data[pos:pos + n])
        if fmt == "point":
            word = raw[0] | raw[1] << 8
            values["pn"], values["began"] = word & POINT_MASK, bool(word & BEGAN)
        elif fmt == "ascii4":
            values[name] = raw.decode("latin-1")
        elif fmt == "count3":
            values[name] = None if 0xEE in raw else _bcd_count(raw, "ERC%d %s" % (erc, name))
        else:
            values[name] = read_field(fmt, raw, "ERC%d %s" % (erc, name))
        pos += n
    return values, pos


def _bcd_count(raw, field):
    try:
        return bcd.decode_uint(raw[::-1], field)
    except _errors.DecodeError:
        raise DecodeError(field, "a count is 6 BCD digits", raw) from None


def _write(fields, values):
    out = b""
    for name, fmt in fields:
        if fmt == "point":
            pn = values.get("pn") or 0
            if not 0 <= pn <= POINT_MASK:
                raise EncodeError("pn", "point %r is not 0..4095" % (pn,))
            word = pn | (BEGAN if values.get("began") else 0)
            out += bytes([word & 0xFF, word >> 8])
        elif fmt == "ascii4":
            text = (values.get(name) or "").encode("latin-1")
            if len(text) > 4:
                raise EncodeError(name, "a version is 4 characters")
            out += text.ljust(4, b"\x00")
        elif fmt == "count3":
            v = values.get(name)
            out += b"\xEE" * 3 if v is None else bcd.encode_uint(v, 3, name)[::-1]
        else:
            out += write_field(fmt, values.get(name), name)
    return out


class Erc1Init(EventRecord):
    """ERC1 data initialisation and version change: flags D0 init, D1 version changed."""
    erc, title = 1, "init / version change"
    fields = (("at", "A15"), ("flags", "u8"), ("old_version", "ascii4"),
              ("new_version", "ascii4"))


class Erc3ParameterChange(EventRecord):
    """ERC3 parameter change: time, the master that set them (MSA), then each DA/DT set."""
    erc, title = 3, "parameter change"
    fields = (("at", "A15"), ("msa", "u8"))

    @classmethod
    def names(cls):
        return ["at", "msa", "units", "extra"]

    @classmethod
    def decode(cls, data):
        values, pos = _read(cls.fields, data, 0, cls.erc)
        units = []
        while pos + 4 <= len(data):
            d = data[pos:pos + 4]
            units.append((decode_da(d[0], d[1]), decode_dt(d[2], d[3])))
            pos += 4
        return cls(units=units, extra=bytes(data[pos:]) or None, **values)

    def encode(self):
        return (_write(self.fields, self.values()) + b"".join(
            encode_da(list(p)) + encode_dt(list(f)) for p, f in self.units or [])
            + (self.extra or b""))


PHASE_VALUES = (("ua", "A7"), ("ub", "A7"), ("uc", "A7"), ("ia", "A25"), ("ib", "A25"),
                ("ic", "A25"))


class Erc9CurrentLoop(EventRecord):
    """ERC9 current loop anomaly (电流回路异常): flags (D0/D1/D2 phase A/B/C, D7..D6 01 short, 10
    open, 11 reversed), Ua..Uc (A.7), Ia..Ic (A.25) and the forward active total (A.14)."""
    erc, title = 9, "current loop anomaly"
    fields = (("at", "A15"), ("pn", "point"), ("flags", "u8")) + PHASE_VALUES + (
        ("forward_active", "A14"),)


class Erc10VoltageLoop(Erc9CurrentLoop):
    """ERC10 voltage loop anomaly (电压回路异常): ERC9's layout; flags D7..D6 01 phase break
    (断相), 10 loss of voltage (失压)."""
    erc, title = 10, "voltage loop anomaly"


class Erc11PhaseSequence(EventRecord):
    """ERC11 phase sequence anomaly (相序异常): the six phase angles (A.5, Ua/Uab, Ub, Uc/Ucb, Ia,
    Ib, Ic) and the forward active total (A.14)."""
    erc, title = 11, "phase sequence anomaly"
    fields = ((("at", "A15"), ("pn", "point"))
              + tuple(("angle_" + k, "A5") for k in ("ua", "ub", "uc", "ia", "ib", "ic"))
              + (("forward_active", "A14"),))


class Erc17Imbalance(EventRecord):
    """ERC17 voltage/current imbalance over the limit (不平衡度越限): flags (D0 voltage, D1
    current), both imbalances (A.5, %), then Ua..Uc (A.7) and Ia..Ic (A.25)."""
    erc, title = 17, "imbalance over limit"
    fields = (("at", "A15"), ("pn", "point"), ("flags", "u8"), ("voltage_imbalance", "A5"),
              ("current_imbalance", "A5")) + PHASE_VALUES


class Erc12MeterClock(EventRecord):
    """ERC12 meter clock out of tolerance (电能表时间超差)."""
    erc, title = 12, "meter clock error"
    fields = (("at", "A15"), ("pn", "point"))


class Erc13MeterFault(EventRecord):
    """ERC13 meter fault information; flags D0 programming or demand-reset count changed, D1
    phase-break count, D2 loss-of-voltage count, D3 power-down count changed, D4 battery low."""
    erc, title = 13, "meter fault"
    fields = (("at", "A15"), ("pn", "point"), ("flags", "u8"))


VARIANT_LE = 11


class Erc14PowerOnOff(EventRecord):
    """ERC14 terminal power off / on: the outage's start and end (Le 10). The 2014 SGCC variant
    (exactly Le 11) puts an attribute byte first (D0 valid, D1 invalid); longer records are the
    standard one with provincial fields after it (e.g. three phase currents, Le 19)."""
    erc, title = 14, "power off / on"
    fields = (("off_at", "A15"), ("on_at", "A15"))
    VARIANT = (("attribute", "u8"),) + fields

    @classmethod
    def names(cls):
        return ["attribute", "off_at", "on_at", "extra"]

    @classmethod
    def decode(cls, data):
        fields = cls.VARIANT if len(data) == VARIANT_LE else cls.fields
        values, pos = _read(fields, data, 0, cls.erc)
        return cls(extra=bytes(data[pos:]) or None, **values)

    def encode(self):
        fields = self.fields if self.attribute is None else self.VARIANT
        return _write(fields, self.values()) + (self.extra or b"")


class Erc24VoltageLimit(EventRecord):
    """ERC24 voltage out of limit (电压越限): flags (D0/D1/D2 phase A/B/C, D7..D6 01 over the
    upper-upper limit, 10 under the lower-lower) and Ua, Ub, Uc (A.7) at the time."""
    erc, title = 24, "voltage out of limit"
    fields = (("at", "A15"), ("pn", "point"), ("flags", "u8"), ("ua", "A7"), ("ub", "A7"),
              ("uc", "A7"))


class Erc27EnergyDecrease(EventRecord):
    """ERC27 energy indication decreased: forward active total before and after."""
    erc, title = 27, "energy decrease"
    fields = (("at", "A15"), ("pn", "point"), ("before", "A14"), ("after", "A14"))


class Erc28OverDifference(EventRecord):
    """ERC28 energy over difference (超差): before, after and the threshold (A.22)."""
    erc, title = 28, "energy over-difference"
    fields = (("at", "A15"), ("pn", "point"), ("before", "A14"), ("after", "A14"),
              ("threshold", "A22"))


class Erc29Flying(Erc28OverDifference):
    """ERC29 meter flying (飞走): same layout as ERC28."""
    erc, title = 29, "meter flying"


class Erc30Stopped(EventRecord):
    """ERC30 meter stopped (停走): the reading and the threshold in units of 15 min."""
    erc, title = 30, "meter stopped"
    fields = (("at", "A15"), ("pn", "point"), ("reading", "A14"), ("threshold_15min", "u8"))


class Erc31ReadFailure(EventRecord):
    """ERC31 485 read failure: the last good read's time, forward active and reactive totals."""
    erc, title = 31, "485 read failure"
    fields = (("at", "A15"), ("pn", "point"), ("last_ok_at", "A15"), ("forward_active", "A14"),
              ("forward_reactive", "A11"))


WORDS = 7


class Erc33StatusWordChange(EventRecord):
    """ERC33 meter run status words changed: 7 change flags, then the 7 words (BS16 each)."""
    erc, title = 33, "status-word change"
    fields = ((("at", "A15"), ("pn", "u16")) + tuple(("change%d" % k, "u16") for k in
                                                     range(1, WORDS + 1))
              + tuple(("word%d" % k, "u16") for k in range(1, WORDS + 1)))


class Erc35UnknownMeter(EventRecord):
    """ERC35 unknown meters found: port, then per meter its address, phases (D7..D5 = C, B, A)
    with signal quality (D3..D0), and protocol (D1..D0: 0 = 645-1997, 1 = 645-2007)."""
    erc, title = 35, "unknown meter found"
    fields = (("at", "A15"), ("port", "u8"))
    METER = (("addr", "A12"), ("phase_quality", "u8"), ("protocol", "u8"))

    @classmethod
    def names(cls):
        return ["at", "port", "meters", "extra"]

    @classmethod
    def decode(cls, data):
        values, pos = _read(cls.fields + (("n", "u8"),), data, 0, cls.erc)
        meters = []
        for _ in range(values.pop("n")):
            meter, pos = _read(cls.METER, data, pos, cls.erc)
            meters.append(meter)
        return cls(meters=meters, extra=bytes(data[pos:]) or None, **values)

    def encode(self):
        meters = self.meters or []
        if len(meters) > 255:
            raise EncodeError("meters", "at most 255 meters in one record")
        return (_write(self.fields, self.values()) + bytes([len(meters)])
                + b"".join(_write(self.METER, m) for m in meters) + (self.extra or b""))


SNAPSHOT = ("forward_active", "reverse_active", "q1_reactive", "q2_reactive", "q3_reactive",
            "q4_reactive")


class Erc37CoverOpen(EventRecord):
    """ERC37 meter cover opened: total count, start and end (A.1), then the six totals before
    and after (A.11), as the meter keeps them in its own record (645 DI 03300D01)."""
    erc, title = 37, "cover open"
    fields = ((("at", "A15"), ("pn", "u16"), ("count", "count3"), ("start", "A1"), ("end", "A1"))
              + tuple(("before_" + k, "A11") for k in SNAPSHOT)
              + tuple(("after_" + k, "A11") for k in SNAPSHOT))


class Erc38TerminalBoxOpen(Erc37CoverOpen):
    """ERC38 terminal box (端钮盒) opened: same layout as ERC37."""
    erc, title = 38, "terminal-box open"


class Erc40MagneticField(EventRecord):
    """ERC40 magnetic field anomaly: device type (2 = meter), its address, anomaly kind (2 =
    strong field)."""
    erc, title = 40, "magnetic field"
    fields = (("at", "A15"), ("pn", "point"), ("device_type", "u8"), ("device_addr", "A12"),
              ("kind", "u8"))


class Erc41ClockSet(EventRecord):
    """ERC41 clock set (对时): the point, the time before and after (A.1); no event time."""
    erc, title = 41, "clock set"
    fields = (("pn", "u16"), ("before", "A1"), ("after", "A1"))


class Erc64MeterPowerDown(EventRecord):
    """Vendor code 64 (this project before the standard codes): a meter's outage."""
    erc, title, vendor = 64, "meter power down", True
    fields = (("pn", "u16"), ("start", "A15"), ("end", "A15"))


class Erc65CostControl(EventRecord):
    """Vendor code 65 (this project before the standard codes): a cost-control event."""
    erc, title, vendor = 65, "cost control", True
    fields = (("pn", "u16"), ("at", "A15"), ("code", "u8"), ("reserved", "u8"))


class UnknownEvent(EventRecord):
    """An ERC with no layout here: its bytes, kept."""
    title = "unknown"

    def __init__(self, erc=0, data=b""):
        self.erc = erc
        self.data = bytes(data)

    @classmethod
    def names(cls):
        return ["erc", "data"]

    def encode(self):
        return self.data


RECORDS = dict((c.erc, c) for c in (
    Erc1Init, Erc3ParameterChange, Erc9CurrentLoop, Erc10VoltageLoop, Erc11PhaseSequence,
    Erc17Imbalance, Erc12MeterClock, Erc13MeterFault, Erc14PowerOnOff,
    Erc24VoltageLimit,
    Erc27EnergyDecrease, Erc28OverDifference, Erc29Flying, Erc30Stopped, Erc31ReadFailure,
    Erc33StatusWordChange, Erc35UnknownMeter, Erc37CoverOpen, Erc38TerminalBoxOpen,
    Erc40MagneticField, Erc41ClockSet, Erc64MeterPowerDown, Erc65CostControl))
VENDOR_CODES = tuple(sorted(e for e, c in RECORDS.items() if c.vendor))


def decode_event(erc, data):
    """The typed record of one event; ``UnknownEvent`` for a code without a layout here."""
    cls = RECORDS.get(erc)
    if cls is None:
        return UnknownEvent(erc, data)
    return cls.decode(bytes(data))


def entry(record):
    """The ``{"erc", "data"}`` entry of an AFN0E unit value for ``record``."""
    data = record.encode()
    if len(data) > 255:
        raise EncodeError("Le", "ERC%d data of %d bytes exceeds 255" % (record.erc, len(data)))
    return {"erc": record.erc, "data": data}


def records(value):
    """Every event of an AFN0E unit value as (entry, typed record or the DecodeError)."""
    out = []
    for e in (value or {}).get("events", []):
        try:
            out.append((e, decode_event(e["erc"], e["data"])))
        except DecodeError as exc:
            out.append((e, exc))
    return out
