"""Prices and discounts, in cents."""

PRICES = {"apple": 50, "pear": 70, "melon": 300}


def price(sku, quantity):
    return PRICES[sku] * quantity


def discount(total, percent):
    if not 0 <= percent <= 100:
        raise ValueError("percent out of range")
    return total - total * percent // 100
