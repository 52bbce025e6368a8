"""``gridedge``: one command line, a sub-command per user job (one module per command group).

Invalid input of any kind (an option out of range, a file, a port, an address or a database that
cannot be used) ends with a one-line message naming the thing and exit code 2, never a
traceback; every option has a type and a range (click's own, plus hil.cli.params).
"""
try:
    import click
except ImportError:                     # a board's install: the base package has no click
    raise SystemExit("gridedge: the command line needs the lab's packages:"
                     " pip install 'gridedge[lab]' (the board's agent is gridedge-agent)")

from edge.runtime import logs
from hil.cli import (agent, audit, decode, harness, lineloss, master, meters, pq, prepaid, schema,
                     sim, swaps)
from hil.cli import areaid
from hil.cli.schema import reference

__all__ = ["main", "reference"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gridedge")
@click.option("--log-format", type=click.Choice(logs.FORMATS), envvar=logs.ENV_FORMAT,
              default="auto", show_default=True,
              help="Logs on stderr: text on a terminal, JSON lines otherwise (journald)"
                   " [$%s]." % logs.ENV_FORMAT)
@click.option("--log-level", type=click.Choice(logs.LEVELS, case_sensitive=False),
              envvar=logs.ENV_LEVEL, default=None,
              help="[$%s; default INFO; virtual-time runs hold the agent's own loggers at"
                   " WARNING unless it is given]." % logs.ENV_LEVEL)
def main(log_format, log_level):
    """gridedge: concentrator edge agent, transformer-area simulator and HIL harness."""
    logs.setup(log_format, log_level)


for _command in (decode.decode, schema.schema_cmd, meters.meters, sim.sim, agent.agent_cmd,
                 master.master, prepaid.prepaid, lineloss.lineloss_cmd, audit.audit_cmd,
                 pq.pq_cmd, swaps.swaps_cmd,
                 areaid.areaid_cmd,
                 harness.demo,
                 harness.hil_group):
    main.add_command(_command)
