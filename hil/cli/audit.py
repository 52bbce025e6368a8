"""``gridedge audit``: a day's missed-reading list (错抄漏抄) and the ERC events the agent raised,
from its store."""
import json
import re

import click

from edge.audit import summary
from hil.cli.common import InputError, agent_config, open_store
from protocols.civil import from_civil


def _day(text):
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text or "")
    try:
        if m is None:
            raise ValueError
        from_civil(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise InputError("--day: %r is no date YYYY-MM-DD" % (text,)) from None
    return text


@click.command("audit")
@click.option("--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False))
@click.option("--day", required=True, help="The freeze day, YYYY-MM-DD.")
def audit_cmd(config_path, day):
    """The meters with no good daily freeze for DAY (flagged: wrong; failed or not read:
    missed), each with its cause, and the audit's ERC events of that day, as JSON."""
    day = _day(day)
    cfg = agent_config(config_path)
    store = open_store(cfg.store)
    try:
        click.echo(json.dumps(summary(store, cfg.archive, day, settings=cfg.settings), indent=1,
                              ensure_ascii=False))
    finally:
        store.close()
