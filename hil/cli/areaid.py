"""``gridedge areaid``: each meter's phase and the meters the carrier module judged to belong to
another transformer area (edge/area_ident.py), from the agent's store."""
import json

import click

from edge.area_ident import summary
from hil.cli.common import agent_config, open_store


@click.command("areaid")
@click.option("--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False))
def areaid_cmd(config_path):
    """Phases per meter (10F31) and foreign meters (area identification, 台区识别) with the CCO
    they belong to, as JSON; the archive is unchanged."""
    cfg = agent_config(config_path)
    store = open_store(cfg.store)
    try:
        click.echo(json.dumps(summary(store, cfg.archive), indent=1, ensure_ascii=False))
    finally:
        store.close()
