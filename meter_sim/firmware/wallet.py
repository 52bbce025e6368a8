"""Local cost control wallet (本地费控): money remaining, thresholds, purchases, and the two
price sets (rate prices and ladder) with the standby set's switch-over (docs/price-notes.md)."""

# Credit levels, most credit first.
NORMAL = 0
ALARM_1 = 1
ALARM_2 = 2        # pre-trip the customer can undo
OVER_ZERO = 3      # pre-trip again at zero
OVERDRAFT = 4      # at the overdraft limit: trip, no customer reclose


class Wallet:
    """Money in yuan, debited by tariff price; thresholds as DI 04001001..05 name them."""

    def __init__(self, balance=100.0, prices=(1.0, 0.8, 0.55, 0.35), alarm_1=20.0, alarm_2=10.0,
                 overdraft_limit=5.0, hoarding_limit=9999.0, close_allowed=0.0, customer=b"\x00" * 6):
        self.prices = tuple(prices)
        self.alarm_1 = alarm_1
        self.alarm_2 = alarm_2
        self.overdraft_limit = overdraft_limit
        self.hoarding_limit = hoarding_limit
        self.close_allowed = close_allowed
        self.customer = bytes(customer)
        self.purchase_count = 1
        self.purchase_total = balance
        self._balance = balance
        self._energy_mark = None   # kWh per tariff at the last settlement of the balance
        self.ladder = None          # (upper annual kWh values, adder per block yuan/kWh) in force
        self.standby_prices = None  # the second rate-price set, written before its switch
        self.standby_ladder = None
        self.price_switch = None    # meter-clock seconds the standby prices take over
        self.ladder_switch = None
        self._annual_mark = None    # total kWh at the start of the ladder year

    def attach(self, energy):
        self._energy_mark = list(energy)
        if self._annual_mark is None:
            self._annual_mark = sum(energy)

    def annual(self, energy):
        """kWh used this ladder year when the registers show ``energy``."""
        return sum(energy) - (self._annual_mark or 0.0)

    def balance_at(self, energy):
        """Balance (may be negative) when the registers show ``energy``: each tariff register's
        delta at its rate price, plus the ladder block's adder on the total."""
        mark = self._energy_mark or energy
        spent = 0.0
        for i in range(len(energy)):
            spent += (energy[i] - mark[i]) * self.prices[i]
        if self.ladder is not None:
            spent += ladder_cost(self.ladder, self.annual(mark), self.annual(energy))
        return self._balance - spent

    def switch_due(self, clock_now):
        """Names of the standby sets whose switch-over time the meter clock has reached."""
        out = []
        if self.price_switch is not None and clock_now >= self.price_switch:
            out.append("prices")
        if self.ladder_switch is not None and clock_now >= self.ladder_switch:
            out.append("ladder")
        return out

    def switch(self, which, energy):
        """Settle at ``energy`` (the registers at the switch instant), then bill at the standby
        set; the switch time is cleared, as the firmware clears it once done."""
        self.settle(energy)
        if which == "prices":
            if self.standby_prices is not None:
                self.prices = tuple(self.standby_prices)
            self.price_switch = None
        else:
            if self.standby_ladder is not None:
                self.ladder = self.standby_ladder
            self.ladder_switch = None

    def settle(self, energy):
        self._balance = self.balance_at(energy)
        self._energy_mark = list(energy)

    def level(self, balance):
        if balance <= -self.overdraft_limit:
            return OVERDRAFT
        if balance <= 0:
            return OVER_ZERO
        if balance <= self.alarm_2:
            return ALARM_2
        if balance <= self.alarm_1:
            return ALARM_1
        return NORMAL

    def threshold_of(self, level):
        """Balance at which ``level`` begins."""
        return {ALARM_1: self.alarm_1, ALARM_2: self.alarm_2, OVER_ZERO: 0.0,
                OVERDRAFT: -self.overdraft_limit}[level]

    def remaining(self, balance):
        return balance if balance > 0 else 0.0

    def overdraft(self, balance):
        return -balance if balance < 0 else 0.0

    def top_up(self, amount, energy):
        """Add money; False when it would pass the hoarding limit."""
        self.settle(energy)
        if self._balance + amount > self.hoarding_limit:
            return False
        self._balance += amount
        self.purchase_count += 1
        self.purchase_total += amount
        return True


def ladder_cost(ladder, before, after):
    """Adder money for annual kWh going from ``before`` to ``after`` across the ladder blocks."""
    uppers, adders = ladder
    lo, total = 0.0, 0.0
    for k in range(len(adders)):
        hi = uppers[k] if k < len(uppers) else None
        a = before if before > lo else lo
        b = after if hi is None or after < hi else hi
        if b > a:
            total += (b - a) * adders[k]
        if hi is None:
            break
        lo = hi
    return total
