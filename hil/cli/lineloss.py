"""``gridedge lineloss``: the agent's daily line loss (台区线损) and its hints, from its store."""
import json

import click

from edge.lineloss import hourly_summary, summary
from hil.cli.common import agent_config, open_store


@click.command("lineloss")
@click.option("--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False))
@click.option("--hourly", is_flag=True, help="the line loss per hour (from the load curves)")
def lineloss_cmd(config_path, hourly):
    """The daily line loss (台区线损) and its hints from the agent's store, as JSON."""
    store = open_store(agent_config(config_path).store)
    try:
        got = hourly_summary(store) if hourly else summary(store)
        click.echo(json.dumps(got, indent=1, ensure_ascii=False))
    finally:
        store.close()
