"""Customer balances (余额) and payments in the agent's SQLite file.

A balance is charged from the meter's energy registers: each ok reading newer than the last one
used costs its delta at the customer's tariff; a reading older than the last, or with a register
below the last, charges nothing (validation has flagged it; money is never taken twice or
given back by a bad register). Payments carry an id: the same payment applied twice credits once.
Money is integer micro-yuan (``tariff.UYUAN``).
"""
import json
from decimal import Decimal, InvalidOperation

from protocols.civil import to_civil

from edge.prepaid.tariff import UYUAN, centi_kwh
from edge.store import transaction

MAX_PAYMENT_YUAN = 10 ** 8       # one payment at most (a balance's integer holds 9.2e12 yuan)

SCHEMA = """
CREATE TABLE IF NOT EXISTS account (
    customer TEXT PRIMARY KEY, balance INTEGER NOT NULL, regs TEXT, regs_at REAL,
    year INTEGER NOT NULL DEFAULT 0, annual INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS payment (
    id TEXT PRIMARY KEY, customer TEXT NOT NULL, amount INTEGER NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS keep_power (customer TEXT PRIMARY KEY, active INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS payment_inbox (
    id TEXT PRIMARY KEY, customer TEXT NOT NULL, amount INTEGER NOT NULL, at REAL NOT NULL);
"""


def post_payment(db, payment_id, customer, amount, at):
    """Leave a payment for a running agent (a rig's CLI or a local file importer); the agent
    applies it once. Returns False when that id is already waiting."""
    return post_payments(db, [(payment_id, customer, amount)], at)[0]


def post_payments(db, payments, at):
    """Leave ``payments`` ((id, customer, micro-yuan), checked by ``check_payments``) in the
    inbox in one transaction: all or none. Returns, per payment, False when its id was there."""
    db.executescript(SCHEMA)
    with transaction(db):
        return [db.execute("INSERT OR IGNORE INTO payment_inbox VALUES (?,?,?,?)",
                           (pid, customer, amount, at)).rowcount == 1
                for pid, customer, amount in payments]


class PaymentError(ValueError):
    """Payments that cannot be posted; ``problems`` lists every (place, message)."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join("%s: %s" % p for p in self.problems))


def known_payments(db):
    """id -> (customer, micro-yuan) of every payment waiting in the inbox or applied."""
    db.executescript(SCHEMA)
    rows = db.execute("SELECT id, customer, amount FROM payment UNION ALL"
                      " SELECT id, customer, amount FROM payment_inbox")
    return {pid: (customer, amount) for pid, customer, amount in rows}


def parse_amount(text):
    """Micro-yuan of a payment amount in yuan (text, exact); ValueError says why not."""
    try:
        yuan = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError("amount %r is not a number" % (text,)) from None
    if not yuan.is_finite():
        raise ValueError("amount %r is not a finite number" % (text,))
    uyuan = yuan * UYUAN
    if yuan <= 0:
        raise ValueError("amount %s is not positive" % (text,))
    if uyuan < 1:
        raise ValueError("amount %s is below one micro-yuan (0.000001)" % (text,))
    if yuan > MAX_PAYMENT_YUAN:
        raise ValueError("amount %s is over %d yuan" % (text, MAX_PAYMENT_YUAN))
    if uyuan != uyuan.to_integral_value():
        raise ValueError("amount %s is finer than a micro-yuan" % (text,))
    return int(uyuan)


def check_payments(rows, customers, known=None):
    """Payments (id, customer, micro-yuan) from ``rows`` of (place, [id, customer, amount]),
    every row checked before any is used: PaymentError lists each bad one (a field missing, an
    empty id, an unknown customer, an amount not a finite number of whole micro-yuan from one
    to ``MAX_PAYMENT_YUAN``, an id given again - in the rows or ``known`` - for another
    customer or amount). An id repeated with the same customer and amount counts once."""
    problems, out, seen = [], [], dict(known or {})
    first = {}
    for place, fields in rows:
        fields = [str(f).strip() for f in fields]
        if len(fields) != 3:
            problems.append((place, "expected id,customer,amount, got %r" % (fields,)))
            continue
        pid, customer, amount = fields
        bad = []
        if not pid:
            bad.append("empty payment id")
        if customer not in customers:
            bad.append("unknown customer %r" % customer)
        try:
            uyuan = parse_amount(amount)
        except ValueError as exc:
            bad.append(str(exc))
            uyuan = None
        if not bad and pid in seen and seen[pid] != (customer, uyuan):
            bad.append("payment %s was given as %s %s yuan%s" % (
                pid, seen[pid][0], _yuan(seen[pid][1]),
                " (%s)" % first[pid] if pid in first else " before"))
        problems.extend((place, b) for b in bad)
        if not bad and pid not in first:
            seen[pid], first[pid] = (customer, uyuan), place
            out.append((pid, customer, uyuan))
    if problems:
        raise PaymentError(problems)
    return out


def _yuan(uyuan):
    return ("%.6f" % (uyuan / float(UYUAN))).rstrip("0").rstrip(".")


class Account:
    """One customer's balance and the registers it was last charged up to."""

    __slots__ = ("customer", "balance", "regs", "regs_at", "year", "annual")

    def __init__(self, customer, balance, regs=None, regs_at=None, year=0, annual=0):
        self.customer = customer
        self.balance = balance
        self.regs = regs
        self.regs_at = regs_at
        self.year = year
        self.annual = annual

    def charge(self, kwh, at, tariff):
        """Charge the delta from the last registers to ``kwh`` (total, tariff 1..4) read at ``at``.
        Returns the cost in micro-yuan, or None when the reading is not newer or goes backwards."""
        regs = [centi_kwh(v) for v in kwh]
        if self.regs is None:
            self._move(regs, at)
            return 0
        if at <= self.regs_at or len(regs) != len(self.regs):
            return None
        deltas = [b - a for a, b in zip(self.regs, regs)]
        if any(d < 0 for d in deltas):
            return None
        year = to_civil(at)[0]
        if year != self.year:
            self.year, self.annual = year, 0          # the ladder year starts again
        cost = tariff.cost(deltas, self.annual)
        self.balance -= cost
        self.annual += deltas[0]
        self._move(regs, at)
        return cost

    def _move(self, regs, at):
        self.regs, self.regs_at = regs, at
        if not self.year:
            self.year = to_civil(at)[0]


class Ledger:
    """Accounts and payments, kept next to the readings in the agent's store."""

    def __init__(self, store):
        self.db = store.db
        self.db.executescript(SCHEMA)
        self.accounts = {}
        for row in self.db.execute("SELECT customer, balance, regs, regs_at, year, annual FROM account"):
            c, bal, regs, at, year, annual = row
            self.accounts[c] = Account(c, bal, json.loads(regs) if regs else None, at, year, annual)

    def open(self, customer, balance):
        """The customer's account, opened with ``balance`` (micro-yuan) if new."""
        acct = self.accounts.get(customer)
        if acct is None:
            acct = self.accounts[customer] = Account(customer, balance)
            self.save(acct)
        return acct

    def save(self, acct):
        with transaction(self.db):
            self._write(acct)

    def _write(self, acct):
        self.db.execute("INSERT OR REPLACE INTO account VALUES (?,?,?,?,?,?)",
                        (acct.customer, acct.balance, json.dumps(acct.regs) if acct.regs else None,
                         acct.regs_at, acct.year, acct.annual))

    def pay(self, payment_id, customer, amount, at):
        """Credit ``amount`` micro-yuan once per ``payment_id``; False if already applied."""
        acct = self.accounts[customer]
        with transaction(self.db):
            cur = self.db.execute("INSERT OR IGNORE INTO payment VALUES (?,?,?,?)",
                                  (payment_id, customer, amount, at))
            if cur.rowcount == 0:
                return False
            acct.balance += amount
            self._write(acct)
        return True

    def keep_power(self):
        """customer -> keep-power as last set by the master station (overrides the config)."""
        return {c: bool(a) for c, a in self.db.execute("SELECT customer, active FROM keep_power")}

    def set_keep_power(self, customer, active):
        with transaction(self.db):
            self.db.execute("INSERT OR REPLACE INTO keep_power VALUES (?, ?)",
                            (customer, int(active)))

    def inbox(self):
        """Payments waiting in the inbox: (id, customer, amount, at)."""
        return self.db.execute("SELECT id, customer, amount, at FROM payment_inbox"
                               " ORDER BY at, id").fetchall()

    def take(self, payment_id):
        self.db.execute("DELETE FROM payment_inbox WHERE id=?", (payment_id,))

    def payments(self, customer=None):
        sql, args = "SELECT id, customer, amount, at FROM payment", ()
        if customer is not None:
            sql, args = sql + " WHERE customer=?", (customer,)
        return self.db.execute(sql + " ORDER BY at, id", args).fetchall()
