"""Per-protocol drivers behind one interface: jobs name neutral items (``items``), a driver turns
them into request frames and the replies back into values (``dlt645``, ``dlt698``)."""
from edge.drivers.dlt645 import DRIVER_645
from edge.drivers.dlt698 import DRIVER_698

PROTOCOL_698 = "698.45"


def driver_for(meter):
    """The driver of ``meter``'s archived protocol (645-2007 / 645-1997 / 698.45)."""
    return DRIVER_698 if meter.protocol == PROTOCOL_698 else DRIVER_645
