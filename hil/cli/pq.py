"""``gridedge pq``: a day's voltage statistics per meter (电压合格率) from the agent's store."""
import json

import click

from edge.pq import day_report
from hil.cli.audit import _day
from hil.cli.common import agent_config, open_store


@click.command("pq")
@click.option("--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False))
@click.option("--day", required=True, help="The day, YYYY-MM-DD.")
def pq_cmd(config_path, day):
    """Each archived meter's voltage statistics of DAY (share of samples within
    [tasks.limits], max/min with their times, minutes over/under) as JSON; a day not yet closed
    is computed from the reads so far (stored: false)."""
    day = _day(day)
    cfg = agent_config(config_path)
    store = open_store(cfg.store)
    try:
        click.echo(json.dumps(day_report(store, cfg.archive, cfg.settings, day), indent=1,
                              ensure_ascii=False))
    finally:
        store.close()
