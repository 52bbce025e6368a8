"""``gridedge agent``: the edge agent of an agent.toml, a thin command over edge.runtime.main."""
import click

from edge.runtime.config import ConfigError
from edge.runtime.main import run
from hil.cli.common import InputError
from hil.cli.params import SECONDS, LocalTime


@click.command("agent")
@click.option("--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False),
              help="agent.toml (store, metrics, tasks, archive).")
@click.option("--epoch", type=LocalTime(), default=None,
              help="Run the agent's calendar from this local time (a rig playing a simulated day)"
                   " instead of the system clock.")
@click.option("--duration", type=SECONDS, help="Stop after this many seconds (default: until killed).")
@click.option("--print-commits", is_flag=True,
              help="Print one JSON line per durable store commit (what a crash must not lose).")
def agent_cmd(config_path, epoch, duration, print_commits):
    """Run the edge agent: read the archived meters on their ports, store, export metrics."""
    try:
        run(config_path, epoch, duration, print_commits)
    except ConfigError as exc:
        raise InputError(str(exc))
