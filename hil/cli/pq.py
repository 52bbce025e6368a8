"""``gridedge pq``: a day's voltage statistics per meter (电压合格率) from the agent's store."""
import json
import re

import click

from edge.pq import day_report, month_report
from hil.cli.audit import _day
from hil.cli.common import InputError, agent_config, open_store


def _month(text):
    m = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if m is None or not 1 <= int(m.group(2)) <= 12:
        raise InputError("--month: %r is no month YYYY-MM" % (text,))
    return text


@click.command("pq")
@click.option("--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False))
@click.option("--day", help="The day, YYYY-MM-DD.")
@click.option("--month", help="Instead of --day: the month, YYYY-MM (AFN0D F35).")
def pq_cmd(config_path, day, month):
    """Each archived meter's voltage statistics of DAY (share of samples within
    [tasks.limits], max/min with their times, minutes over/under; phases B and C of a
    three-phase meter) and its three-phase alarms (ERC9/10/11/17) as JSON; a day not yet closed
    is computed from the reads so far (stored: false). --month: the month's from its days."""
    if (day is None) == (month is None):
        raise InputError("give --day YYYY-MM-DD or --month YYYY-MM")
    if month is not None:
        month = _month(month)
    else:
        day = _day(day)
    cfg = agent_config(config_path)
    store = open_store(cfg.store)
    try:
        out = month_report(store, cfg.archive, cfg.settings, month) if month else day_report(
            store, cfg.archive, cfg.settings, day)
        click.echo(json.dumps(out, indent=1, ensure_ascii=False))
    finally:
        store.close()
