"""Tariffs: what an energy delta costs. Money is integer micro-yuan, energy integer 0.01 kWh (the
meters' register resolution), prices integer 0.0001 yuan/kWh, so 0.01 kWh x 0.0001 yuan is
exactly 1 micro-yuan and no balance drifts by rounding.

Flat: one price. Time-of-use (分时): a price per tariff register (尖峰平谷, registers 1-4), charged
on each register's delta. Ladder (阶梯): annual blocks of total energy, each with its price; the
year's consumption picks the block, a delta straddling a block edge is split at it.
"""
import math

UYUAN = 1_000_000           # micro-yuan per yuan


def price_units(price):
    """0.0001 yuan/kWh units of a price given in yuan/kWh."""
    return int(round(float(price) * 10000))


def centi_kwh(kwh):
    return int(round(float(kwh) * 100))


def to_uyuan(yuan):
    return int(round(float(yuan) * UYUAN))


def to_yuan(uyuan):
    return uyuan / float(UYUAN)


class TariffError(ValueError):
    """A tariff definition that cannot be used."""


class Flat:
    kind = "flat"

    def __init__(self, price):
        self.price = price_units(price)

    def cost(self, deltas, annual_before):
        """Micro-yuan for register deltas (0.01 kWh: total, tariff 1..4) after ``annual_before``
        0.01 kWh this year."""
        return deltas[0] * self.price


class TimeOfUse:
    kind = "tou"

    def __init__(self, prices):
        if len(prices) != 4:
            raise TariffError("a time-of-use tariff needs 4 prices (tariffs 1-4), got %d" % len(prices))
        self.prices = [price_units(p) for p in prices]

    def cost(self, deltas, annual_before):
        by_tariff = deltas[1:5]
        rest = deltas[0] - sum(by_tariff)       # energy outside the four registers: at tariff 3
        return sum(d * p for d, p in zip(by_tariff, self.prices)) + max(rest, 0) * self.prices[2]


class Ladder:
    kind = "ladder"

    def __init__(self, blocks):
        """``blocks``: [(upper annual kWh or None for the last, price)], ascending."""
        if not blocks:
            raise TariffError("a ladder tariff needs at least one block")
        self.blocks = []
        last = 0
        for k, (upper, price) in enumerate(blocks):
            top = math.inf if upper is None else centi_kwh(upper)
            if top <= last or (upper is None and k != len(blocks) - 1):
                raise TariffError("ladder blocks must ascend and only the last may be open")
            self.blocks.append((top, price_units(price)))
            last = top
        if self.blocks[-1][0] != math.inf:
            raise TariffError("the last ladder block must be open (upper = none)")

    def cost(self, deltas, annual_before):
        left, at, total = deltas[0], annual_before, 0
        for top, price in self.blocks:
            if left <= 0:
                break
            room = top - at
            if room <= 0:
                continue
            take = min(left, room)
            total += take * price
            left -= take
            at += take
        return total


def tariff_from_dict(doc):
    """A tariff from its config table: {kind = "flat", price} / {kind = "tou", prices = [4]} /
    {kind = "ladder", blocks = [[upper_kwh, price], ..., ["none"|-1, price]]}."""
    kind = doc.get("kind")
    try:
        if kind == "flat":
            return Flat(doc["price"])
        if kind == "tou":
            return TimeOfUse(doc["prices"])
        if kind == "ladder":
            return Ladder([(None if u in (None, "none", -1) else u, p) for u, p in doc["blocks"]])
    except KeyError as exc:
        raise TariffError("tariff %s: missing %s" % (kind, exc)) from None
    except (TypeError, ValueError) as exc:
        raise TariffError("tariff %s: %s" % (kind, exc)) from None
    raise TariffError("tariff kind must be flat, tou or ladder, got %r" % (kind,))
