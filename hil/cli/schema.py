"""``gridedge schema``: the Markdown reference of agent.toml and scenario files (docs/CONFIG.md)."""
import click

from edge.prepaid.campaign import FILE as PRICES_FILE
from edge.runtime.config import FILE as AGENT_FILE
from hil.scenario import FILE as SCENARIO_FILE


@click.command("schema")
@click.argument("what", type=click.Choice(["agent", "scenario", "prices"]))
def schema_cmd(what):
    """Print the reference of agent.toml, a scenario or a prices file (Markdown): every section and
    key with its type, range, unit and default, from the declarations files are checked
    against (docs/CONFIG.md is this output)."""
    click.echo("\n".join(reference(what)))


def reference(what):
    """Markdown lines of the declared sections of ``what`` ('agent', 'scenario', 'prices')."""
    decl = {"agent": AGENT_FILE, "scenario": SCENARIO_FILE, "prices": PRICES_FILE}[what]
    lines = ["## %s" % decl.name, "", decl.doc, ""]
    for f in decl.fields.values():
        section = getattr(f, "section", None)
        if section is None:
            lines += ["### `[%s]`" % f.name, "", f.doc, ""]
        else:
            lines += section.document(3, f.describe().split(" ")[-1]) + [""]
    return lines
