"""``gridedge decode``: captured 645 / 698 / 1376.2 / 1376.1 bytes explained field by field."""
import json
import sys

import click

from protocols.bcd import hex_to_bytes
from protocols.errors import ProtocolError
from hil import decode698
from hil.decode import explain_capture, explain_capture_3761, explain_capture_3762
from hil.cli.common import InputError


@click.command()
@click.argument("hex_bytes", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a field table.")
@click.option("--protocol", type=click.Choice(["2007", "1997", "1376.2", "1376.1", "698"]),
              default=None, help="DL/T 645-2007, 645-1997, Q/GDW 1376.2 (module UART), 1376.1 "
              "(uplink) or DL/T 698.45 [default: 2007, or 698 when the bytes are 698.45].")
def decode(hex_bytes, as_json, protocol):
    """Decode captured DL/T 645, DL/T 698.45, Q/GDW 1376.2 or 1376.1 bytes (HEX, spaces allowed): every
    frame, every field and data unit; a 645 frame carried inside is decoded too.

    Noise around the frames is shown as garbage; nothing is silently dropped.
    """
    try:
        data = hex_to_bytes(" ".join(hex_bytes), "hex")
    except ProtocolError as exc:
        raise InputError(str(exc))
    if protocol is None:
        protocol = "698" if decode698.looks_like_698(data) else "2007"
    if protocol == "698":
        items = decode698.explain_capture(data)
    elif protocol == "1376.2":
        items = explain_capture_3762(data)
    elif protocol == "1376.1":
        items = explain_capture_3761(data)
    else:
        items = explain_capture(data, int(protocol))
    if as_json:
        click.echo(json.dumps(items, indent=2, ensure_ascii=False))
    else:
        for n, item in enumerate(items, 1):
            click.echo("# item %d" % n)
            for key, value in item.items():
                click.echo("  %-13s %s" % (key, value))
    if not any("raw" in i for i in items):
        sys.exit(1)
