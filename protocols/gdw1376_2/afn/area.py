"""Area identification (台区识别) results in an AFN06 F5 report: the 645-style frame an HPLC CCO
carries for a node it judged (control 9EH, a result flag, the address of the CCO the node
belongs to). The 2019 text defines only the switch (05F6) and the end (06F3 kind 3); the
result frame is a vendor practice, see docs/areaid.md for the source."""
from protocols.gdw1376_2.errors import DecodeError, EncodeError

AREA_CTRL = 0x9E            # control code of the carried result frame
AREA_DATA_LEN = 7           # result flag (1) + belonging CCO address (6)
FLAG_OURS = 0               # our flags: archived here and belonging here
FLAG_FOREIGN = 1            # archived here, belongs to another CCO (跨台区)
FLAG_FOREIGN_UNARCHIVED = 3  # not archived here, belongs to another CCO (邻台区)
FLAG_OURS_UNARCHIVED = 2    # not archived here, belongs here
FLAGS = (FLAG_OURS, FLAG_FOREIGN, FLAG_OURS_UNARCHIVED, FLAG_FOREIGN_UNARCHIVED)


class AreaResult:
    """One node's identification: its address, our flag and the CCO (master node) address it
    belongs to, both addresses in wire order (least significant byte first)."""

    def __init__(self, addr, flag, cco):
        self.addr = bytes(addr)
        self.flag = flag
        self.cco = bytes(cco)

    @property
    def foreign(self):
        return self.flag in (FLAG_FOREIGN, FLAG_FOREIGN_UNARCHIVED)

    def body(self):
        """The carried frame: 68 A0..A5 68 9E 07 (flag, CCO address) +33H, CS, 16."""
        if len(self.addr) != 6 or len(self.cco) != 6:
            raise EncodeError("area result", "addresses need 6 bytes")
        if self.flag not in FLAGS:
            raise EncodeError("area result", "flag %r not one of %s" % (self.flag, FLAGS))
        data = bytes([(b + 0x33) & 0xFF for b in bytes([self.flag]) + self.cco])
        head = b"\x68" + self.addr + b"\x68" + bytes([AREA_CTRL, AREA_DATA_LEN]) + data
        return head + bytes([sum(head) & 0xFF, 0x16])

    def __eq__(self, other):
        return isinstance(other, AreaResult) and (self.addr, self.flag, self.cco) == (
            other.addr, other.flag, other.cco)

    def __repr__(self):
        return "AreaResult(%s, flag=%d, cco=%s)" % (self.addr[::-1].hex(), self.flag,
                                                    self.cco[::-1].hex())


def is_area_result(body):
    """Whether a carried 06F5 frame is shaped like an area result (control 9EH at its place)."""
    body = bytes(body)
    return len(body) >= 10 and body[0] == 0x68 and body[7] == 0x68 and body[8] == AREA_CTRL


def parse_area_result(body):
    """The AreaResult in a carried 06F5 frame; DecodeError for anything else."""
    body = bytes(body)
    if len(body) != 12 + AREA_DATA_LEN:
        raise DecodeError("area result", "needs %d bytes, got %d" % (12 + AREA_DATA_LEN,
                                                                     len(body)), body, 0)
    if body[0] != 0x68 or body[7] != 0x68 or body[-1] != 0x16:
        raise DecodeError("area result", "not a 68 .. 68 .. 16 frame", body, 0)
    if body[8] != AREA_CTRL or body[9] != AREA_DATA_LEN:
        raise DecodeError("area result", "control %02X length %d, want 9E 07" % (body[8], body[9]),
                          body, 8)
    if sum(body[:-2]) & 0xFF != body[-2]:
        raise DecodeError("area result", "checksum mismatch", body, len(body) - 2)
    data = bytes([(b - 0x33) & 0xFF for b in body[10:10 + AREA_DATA_LEN]])
    if data[0] not in FLAGS:
        raise DecodeError("area result", "unknown flag %d" % data[0], body, 10)
    return AreaResult(body[1:7], data[0], data[1:7])
