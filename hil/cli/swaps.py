"""``gridedge swaps``: the meter-swap candidates, phantom archive entries and archive
candidates the agent found (edge/swaps.py), from its store."""
import json

import click

from edge.swaps import summary
from hil.cli.common import agent_config, open_store


@click.command("swaps")
@click.option("--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False))
def swaps_cmd(config_path):
    """Swap candidates (old meter, last freeze; new meter, first read), archive entries never
    heard and meters found that the archive lacks, as JSON; nothing is re-archived."""
    cfg = agent_config(config_path)
    store = open_store(cfg.store)
    try:
        click.echo(json.dumps(summary(store), indent=1, ensure_ascii=False))
    finally:
        store.close()
