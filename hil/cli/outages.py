"""``gridedge outages`` and ``gridedge topology``: the outages the agent recorded (per meter and
per branch or area, edge/outages.py) and the carrier network's topology of a day
(edge/topology_days.py), from its store."""
import json

import click

from edge import outages, topology_days
from hil.cli.audit import _day
from hil.cli.common import agent_config, open_store


@click.command("outages")
@click.option("--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False))
@click.option("--day", default=None, help="Only outages begun that day, YYYY-MM-DD.")
def outages_cmd(config_path, day):
    """Outages (area, branch with its relay parent, or one meter: start, end, meters) and each
    meter's own (where start and end came from: module report or meter record), as JSON."""
    day = None if day is None else _day(day)
    cfg = agent_config(config_path)
    store = open_store(cfg.store)
    try:
        click.echo(json.dumps(outages.summary(store, day), indent=1, ensure_ascii=False))
    finally:
        store.close()


@click.command("topology")
@click.option("--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False))
@click.option("--day", required=True, help="The day, YYYY-MM-DD.")
def topology_cmd(config_path, day):
    """The carrier network of a day (meter, relay parent, level, role, phase) and what changed
    since the day before (moved, joined, gone), as JSON."""
    day = _day(day)
    cfg = agent_config(config_path)
    store = open_store(cfg.store)
    try:
        click.echo(json.dumps(topology_days.summary(store, day), indent=1, ensure_ascii=False))
    finally:
        store.close()
