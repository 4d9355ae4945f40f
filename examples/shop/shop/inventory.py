"""Stock levels."""


class Inventory:
    def __init__(self, stock):
        self.stock = dict(stock)

    def reserve(self, sku, quantity):
        if self.stock.get(sku, 0) < quantity:
            return False
        self.stock[sku] -= quantity
        return True
