"""``python -m hil.cli``: the ``gridedge`` command line."""
from hil.cli import main

main()
