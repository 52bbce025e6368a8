"""Q/GDW 1376.2 data units, one module per AFN group (see ``base`` for the rules they share).

``from protocols.gdw1376_2 import afn as A`` gives every unit class and code as ``A.Name``.
"""
from protocols.gdw1376_2.afn.base import *          # noqa: F401,F403
from protocols.gdw1376_2.afn.read import *          # noqa: F401,F403
from protocols.gdw1376_2.afn.control import *       # noqa: F401,F403
from protocols.gdw1376_2.afn.query import *         # noqa: F401,F403
from protocols.gdw1376_2.afn.reports import *       # noqa: F401,F403
from protocols.gdw1376_2.afn.route import *         # noqa: F401,F403
from protocols.gdw1376_2.afn.transfer import *      # noqa: F401,F403
from protocols.gdw1376_2.afn.area import *          # noqa: F401,F403
