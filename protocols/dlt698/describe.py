"""Plain (JSON-able) descriptions of decoded 698.45 values and APDUs, for ``gridedge decode``
and logs: every field named, OADs named from the registry, numbers also scaled to units."""
from protocols.errors import hexstr
from protocols.dlt698 import const as K
from protocols.dlt698 import registry as R
from protocols.dlt698.axdr import OAD, OMD, ROAD, TI, TSA, DateTime, ScalerUnit
from protocols.dlt698.connect import MECHANISM_NAMES
from protocols.dlt698.data import MS, RSD, Data, Region, TYPE_NAMES


def value(v):
    """A decoded value as plain Python (str for bytes and times)."""
    if isinstance(v, Data):
        return data(v)
    if isinstance(v, (bytes, bytearray)):
        return hexstr(v)
    if isinstance(v, (list, tuple)):
        return [value(x) for x in v]
    if isinstance(v, (OAD, OMD)):
        return v.text()
    if isinstance(v, (DateTime, TSA)):
        return v.text()
    if isinstance(v, (ROAD, TI, ScalerUnit, MS, RSD, Region)):
        return repr(v)
    if hasattr(v, "as_dict"):            # Association, FactoryVersion
        return v.as_dict()
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return repr(v)                       # Sid and any other typed part: its printed form


def data(d):
    """``{"type": ..., "value": ...}`` of one Data (bit-strings as their bits)."""
    if d.tag == 4:
        bits, raw = d.value
        text = "".join("{:08b}".format(b) for b in raw)[:bits]
        return {"type": "bit-string", "value": text}
    return {"type": TYPE_NAMES.get(d.tag, str(d.tag)), "value": value(d.value)}


def result(oad, d, dar):
    out = {"oad": oad.text(), "name": R.describe_oad(oad)}
    if dar is not None:
        out["dar"] = "%d %s" % (dar, K.DAR_NAMES.get(dar, "unknown"))
        return out
    out["data"] = data(d)
    attr = R.lookup(oad)
    if attr is not None and attr.scaler:
        out["scaled"] = value(R.scaled(attr, d))
        out["unit"] = attr.unit_name
    elif attr is not None and attr.unit_name:
        out["unit"] = attr.unit_name
    return out


def _column(c):
    if isinstance(c, ROAD):
        return {"road": c.oad.text(), "name": R.describe_oad(c.oad),
                "oads": [{"oad": o.text(), "name": R.describe_oad(o)} for o in c.oads]}
    return {"oad": c.text(), "name": R.describe_oad(c)}


def record(rec):
    out = {"oad": rec.oad.text(), "name": R.describe_oad(rec.oad),
           "columns": [_column(c) for c in rec.columns]}
    if rec.dar is not None:
        out["dar"] = "%d %s" % (rec.dar, K.DAR_NAMES.get(rec.dar, "unknown"))
    else:
        out["rows"] = [[_cell(col, cell) for col, cell in zip(rec.columns, row)]
                       for row in rec.rows]
    return out


def _cell(column, d):
    out = data(d)
    attr = R.lookup(column) if isinstance(column, OAD) else None
    if attr is not None and attr.scaler and isinstance(d.value, (int, list)):
        out["scaled"] = value(R.scaled(attr, d))
        out["unit"] = attr.unit_name
    return out


def _field(key, v):
    from protocols.dlt698.apdu import RecordResult, Result
    if isinstance(v, Result):
        return result(v.oad, v.data, v.dar)
    if isinstance(v, RecordResult):
        return record(v)
    if key == "dar" and isinstance(v, int):
        return "%d %s" % (v, K.DAR_NAMES.get(v, "unknown"))
    if isinstance(v, OAD):
        return {"oad": v.text(), "name": R.describe_oad(v)}
    if isinstance(v, OMD):
        return {"omd": v.text(), "method": R.method_name(v) or "method %d" % v.method,
                "object": R.object_name(v.oi) or "%04X" % v.oi}
    if isinstance(v, (list, tuple)):
        return [_field(key, x) for x in v]
    return value(v)


def apdu(msg):
    """Every field of a decoded APDU as a dict."""
    out = {"apdu": msg.service, "service": type(msg).__name__}
    for key, v in sorted(msg.__dict__.items()):
        if key == "piid":
            out["piid"] = "%02X (priority %d, number %d)" % (v, v >> 7, v & 0x3F)
        elif key == "time_tag" and v is not None:
            out["time_tag"] = {"sent": v.sent.text(), "delay": repr(v.delay)}
        elif key == "follow_report" and v is not None:
            out["follow_report"] = hexstr(v)
        elif key == "kind" and msg.tag in (K.LINK_REQUEST,):
            out["kind"] = K.LINK_TYPE_NAMES.get(v, v)
        elif key == "result" and msg.tag == K.CONNECT_RESPONSE:
            out["result"] = "%d %s" % (v, K.CONNECT_RESULT_NAMES.get(v, "unknown"))
        elif key == "mechanism" and msg.tag == K.CONNECT_REQUEST:
            out["mechanism"] = "%d %s" % (v, MECHANISM_NAMES.get(v, "unknown"))
        elif v is not None and key not in ("time_tag", "follow_report"):
            out[key] = _field(key, v)
    return out
