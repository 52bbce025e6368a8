"""``gridedge prepaid pay|status|price|campaigns``: payments and price campaigns into a running
agent's store, balances, commands and campaign states."""
import csv
import json
import time

import click

from protocols.civil import iso
from edge.prepaid.campaign import CampaignError, post_file, summary
from edge.prepaid.journal import Journal
from edge.prepaid.ledger import (Ledger, PaymentError, check_payments, known_payments,
                                 post_payments)
from edge.prepaid.tariff import to_yuan
from edge.prepaid.topup import status_rows
from hil.cli.common import InputError, agent_config, open_store


@click.group()
def prepaid():
    """Cost control in a running agent's store: post payments, show balances and commands."""


def _prepaid_config(config_path):
    cfg = agent_config(config_path)
    if cfg.prepaid is None:
        raise InputError("%s has no [prepaid] section" % config_path)
    return cfg


def _customers(cfg, store):
    """Customers the agent knows: named by an archived meter, in [[prepaid.customer]], or with
    an account in its store."""
    return ({m.customer for m in cfg.archive.meters.values() if m.customer}
            | set(cfg.prepaid.customers) | set(Ledger(store).accounts))


def _payment_rows(csv_path):
    """(place, fields) of every payment line of a CSV file (blank lines and # comments skipped)."""
    try:
        with open(csv_path, newline="", encoding="utf-8") as f:
            return [("%s:%d" % (csv_path, n), row) for n, row in enumerate(csv.reader(f), 1)
                    if row and "".join(row).strip() and not row[0].lstrip().startswith("#")]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError("cannot read %s: %s" % (csv_path, exc))


@prepaid.command("pay")
@click.option("--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False))
@click.option("--customer", default=None)
@click.option("--amount", default=None,
              help="Yuan, a whole number of micro-yuan from 0.000001 to 100000000.")
@click.option("--id", "payment_id", default=None,
              help="Payment id (default: customer and time); the same id is applied once.")
@click.option("--file", "csv_path", type=click.Path(exists=True, dir_okay=False),
              help="A CSV of payments instead: id,customer,amount per line (a rig's import).")
def prepaid_pay(config_path, customer, amount, payment_id, csv_path):
    """Leave payments in the agent's inbox; the running agent applies each id once. Every
    payment is checked first: if any is bad, each bad one is named and none is posted."""
    now = time.time()
    if csv_path:
        rows = _payment_rows(csv_path)
    elif customer is not None and amount is not None:
        rows = [("payment", [payment_id if payment_id is not None else
                             "%s-%d" % (customer, int(now * 1000)), customer, amount])]
    else:
        raise click.UsageError("give --customer and --amount, or --file")
    cfg = _prepaid_config(config_path)
    store = open_store(cfg.store)
    try:
        payments = check_payments(rows, _customers(cfg, store), known_payments(store.db))
        posted = post_payments(store.db, payments, now)
    except PaymentError as exc:
        raise InputError("nothing posted:\n%s" % exc)
    finally:
        store.close()
    for (pid, cust, uyuan), new in zip(payments, posted):
        click.echo(json.dumps({"payment": pid, "customer": cust, "amount": to_yuan(uyuan),
                               "posted": new}))


@prepaid.command("status")
@click.option("--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False))
@click.option("--commands", "show_commands", is_flag=True, help="Also list the command journal.")
def prepaid_status(config_path, show_commands):
    """Balances, waiting payments and (optionally) every journaled command, as JSON."""
    store = open_store(_prepaid_config(config_path).store)
    ledger = Ledger(store)
    out = {"balances": {c: to_yuan(a.balance) for c, a in sorted(ledger.accounts.items())},
           "inbox": [{"id": i, "customer": c, "amount": to_yuan(a)} for i, c, a, _ in ledger.inbox()],
           "topups": status_rows(store.db)}
    if show_commands:
        out["commands"] = [{"id": c.id, "meter": c.meter, "action": c.action, "state": c.state,
                            "reason": c.reason, "source": c.source, "attempts": c.attempts,
                            "created": iso(c.created)} for c in Journal(store).all()]
    click.echo(json.dumps(out, indent=1))


@prepaid.command("price")
@click.option("--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False))
@click.option("--file", "prices_path", required=True,
              type=click.Path(exists=True, dir_okay=False),
              help="prices.toml: [[campaign]] id, effective, meters or tariff_class, [campaign.tariff].")
def prepaid_price(config_path, prices_path):
    """Post price campaigns for the running agent to carry out. The whole file is checked
    first (every problem named, exit 2) and nothing is posted unless all of it is good."""
    cfg = _prepaid_config(config_path)
    store = open_store(cfg.store)
    try:
        posted = post_file(store.db, prices_path, cfg.archive, time.time())
    except (ValueError, CampaignError) as exc:
        raise InputError("nothing posted:\n%s" % exc)
    finally:
        store.close()
    for cid, new, meters in posted:
        click.echo(json.dumps({"campaign": cid, "posted": new, "meters": meters}))


@prepaid.command("campaigns")
@click.option("--config", "config_path", required=True,
              type=click.Path(exists=True, dir_okay=False))
def prepaid_campaigns(config_path):
    """Every price campaign with its meters by state and the reasons of the failed ones (JSON)."""
    store = open_store(_prepaid_config(config_path).store)
    try:
        click.echo(json.dumps(summary(store.db), indent=1))
    finally:
        store.close()
