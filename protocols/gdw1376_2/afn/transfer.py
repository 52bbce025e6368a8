"""AFN15 文件传输 (module upgrade by file transfer, 10376.2-2019 section 6.5.13)."""
from protocols.gdw1376_2.errors import DecodeError
from protocols.gdw1376_2.afn.base import Fields, Unit, need, p16, p32, register, u16, u32

FILE_CLEAR = 0x00           # file identifier: clear the downloaded file
FILE_MODULE = 0x03          # local communication module upgrade file
FILE_ALL_MODULES = 0x07     # master and slave node modules (2019)
FILE_SLAVE_MODULES = 0x08   # slave node modules (2019)
SEGMENT_MIDDLE = 0x00       # file attribute: first or middle segment
SEGMENT_LAST = 0x01         # file attribute: the last segment
COMMAND_FRAMES = 0x00       # file command: download in frames
SEGMENT_REFUSED = 0xFFFFFFFF    # the acknowledgement when the module found the file bad
                                # (the standard prints 0XFFFFH for this 4-byte field)


@register
class FileSegment(Unit):
    """AFN15 F1 文件传输方式 1 (down): file id, attribute (1 = last), command, total segments n,
    segment index i (0..n-1), Lf, the segment (table 119)."""

    AFN, FN, UP = 0x15, 1, False

    def __init__(self, file_id, last, total, index, data, command=COMMAND_FRAMES):
        self.file_id = file_id
        self.last = bool(last)
        self.command = command
        self.total = total
        self.index = index
        self.data = bytes(data)

    def payload(self):
        return (bytes([self.file_id, SEGMENT_LAST if self.last else SEGMENT_MIDDLE, self.command])
                + p16(self.total) + p32(self.index) + p16(len(self.data)) + self.data)

    @classmethod
    def parse(cls, data):
        need(data, 11, "file segment")
        n = u16(data, 9)
        if len(data) != 11 + n:
            raise DecodeError("Lf", "segment length %d does not match the %d bytes carried"
                              % (n, len(data) - 11), data, 9)
        return cls(data[0], data[1] == SEGMENT_LAST, u16(data, 3), u32(data, 5), data[11:],
                   data[2])


@register
class FileSegmentAck(Fields):
    """AFN15 F1 (up): the segment index received, or ``SEGMENT_REFUSED`` (table 120)."""
    AFN, FN, UP = 0x15, 1, True
    FIELDS = (("index", 4),)
