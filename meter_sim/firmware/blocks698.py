"""Application-layer blocks (分块, GET-Response-Next) for answers longer than the client's APDU
size: the results go in blocks numbered from 1 (CHINT Comm_698.c ``FrameNUM``), a record's rows
split across blocks as that firmware does; the client asks each next block with GET-Request-Next
naming the last block it received."""
from protocols.dlt698.apdu import RecordResult
from protocols.dlt698.data import put_data

BLOCK_OVERHEAD = 16     # 85 05 PIID last block(2) choice count(<=3) FollowReport TimeTag, rounded up


def _size(item):
    out = bytearray()
    item.put(out)
    return len(out)


def _row_size(row):
    out = bytearray()
    for cell in row:
        put_data(out, cell)
    return len(out)


def _pieces(item, budget):
    """``item`` itself, or for a record too big for one block its rows in several records."""
    if not isinstance(item, RecordResult) or item.dar is not None or _size(item) <= budget:
        return [item]
    room = budget - _size(RecordResult(item.oad, item.columns, []))
    out, rows, used = [], [], 0
    for row in item.rows:
        n = _row_size(row)
        if rows and used + n > room:
            out.append(RecordResult(item.oad, item.columns, rows))
            rows, used = [], 0
        rows.append(row)
        used += n
    out.append(RecordResult(item.oad, item.columns, rows))
    return out


def split(items, apdu_max):
    """The items (Result or RecordResult) packed into blocks of at most ``apdu_max`` bytes (a
    single row or result larger than that still gets a block of its own)."""
    budget = max(apdu_max - BLOCK_OVERHEAD, 1)
    blocks, block, used = [], [], 0
    for item in items:
        for piece in _pieces(item, budget):
            n = _size(piece)
            if block and used + n > budget:
                blocks.append(block)
                block, used = [], 0
            block.append(piece)
            used += n
    blocks.append(block)
    return blocks


def items_of(reply):
    """(items, records?) of a GET answer that blocks can carry, or None."""
    for name, records in (("result", False), ("results", False), ("record", True),
                          ("records", True)):
        if name in reply.__dict__:
            value = reply.__dict__[name]
            return (value if isinstance(value, list) else [value]), records
    return None

