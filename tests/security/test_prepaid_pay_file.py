"""`gridedge prepaid pay --file`: the whole file is checked before anything is written; every
bad row is named (not a finite amount, over the limit, below one micro-yuan, an unknown
customer, an empty id, an id given again for another amount) and the inbox stays as it was."""
import json

import pytest
from click.testing import CliRunner

from edge.prepaid.ledger import PaymentError, check_payments, known_payments, post_payments
from edge.store import Store
from hil.cli import main

CONFIG = """[agent]
store = "agent.sqlite"
[prepaid]
[[prepaid.customer]]
id = "C1"
[[port]]
name = "p"
url = "loop://"
[[meter]]
addr = "000000000002"
port = "p"
prepaid = "remote"
customer = "C2"
"""


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text(CONFIG)
    return path


def pay(config, *args):
    result = CliRunner().invoke(main, ["prepaid", "pay", "--config", str(config), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    return result


def inbox(config):
    store = Store(config.parent / "agent.sqlite")
    try:
        return known_payments(store.db)
    finally:
        store.close()


def test_a_file_with_bad_rows_names_each_and_posts_nothing(config, tmp_path):
    rows = tmp_path / "payments.csv"
    rows.write_text("# id,customer,amount\n"
                    "R1,C1,50\n"           # good, but the file is refused as a whole
                    "R2,C1,inf\n"
                    "R3,C1,nan\n"
                    "R4,C2,1e30\n"
                    "R5,C9,10\n"
                    ",C1,10\n"
                    "R7,C1,0.0000001\n"
                    "R8,C2,-5\n"
                    "R1,C1,60\n"           # the same id with another amount
                    "R9,C1\n")
    result = pay(config, "--file", str(rows))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines[0] == "Error: nothing posted:"
    named = {line.split(": ")[0]: line for line in lines[1:]}
    assert set(named) == {"%s:%d" % (rows, n) for n in (3, 4, 5, 6, 7, 8, 9, 10, 11)}
    for n, words in ((3, "'inf' is not a finite"), (4, "'nan' is not a finite"),
                     (5, "over 100000000 yuan"), (6, "unknown customer 'C9'"),
                     (7, "empty payment id"), (8, "below one micro-yuan"),
                     (9, "not positive"), (10, "R1 was given as C1 50 yuan (%s:2)" % rows),
                     (11, "expected id,customer,amount")):
        assert words in named["%s:%d" % (rows, n)]
    assert inbox(config) == {}


def test_a_good_file_is_posted_once_per_id(config, tmp_path):
    rows = tmp_path / "payments.csv"
    rows.write_text("R1,C1,50\nR2,C2,0.000001\nR1,C1,50.0\n")
    result = pay(config, "--file", str(rows))
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["payment"] for line in result.output.splitlines()] == ["R1", "R2"]
    assert inbox(config) == {"R1": ("C1", 50000000), "R2": ("C2", 1)}
    again = pay(config, "--file", str(rows))
    assert again.exit_code == 0
    assert [json.loads(line)["posted"] for line in again.output.splitlines()] == [False, False]
    other = tmp_path / "other.csv"
    other.write_text("R3,C1,5\nR2,C2,7\n")          # R2 waits already, for another amount
    result = pay(config, "--file", str(other))
    assert result.exit_code == 2 and "R2 was given as C2 0.000001 yuan before" in result.output
    assert "R3" not in inbox(config)


def test_one_payment_on_the_command_line_is_checked_the_same_way(config):
    assert pay(config, "--customer", "C9", "--amount", "5", "--id", "x").exit_code == 2
    assert pay(config, "--customer", "C1", "--amount", "inf", "--id", "x").exit_code == 2
    assert pay(config, "--customer", "C1", "--amount", "5", "--id", "").exit_code == 2
    assert inbox(config) == {}
    assert pay(config, "--customer", "C1", "--amount", "5", "--id", "x").exit_code == 0
    assert inbox(config) == {"x": ("C1", 5000000)}


def test_posting_is_all_or_nothing(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    try:
        with pytest.raises(PaymentError):
            check_payments([("a", ["R1", "C1", "1"]), ("b", ["R2", "C1", "x"])], {"C1"})
        posted = post_payments(store.db, [("R1", "C1", 1), ("R2", "C1", 2)], 0.0)
        assert posted == [True, True] and len(known_payments(store.db)) == 2
        with pytest.raises(OverflowError):          # what 1e30 yuan did half-way through a file
            post_payments(store.db, [("R3", "C1", 3), ("R4", "C1", 10 ** 36)], 0.0)
        assert "R3" not in known_payments(store.db)
    finally:
        store.close()
