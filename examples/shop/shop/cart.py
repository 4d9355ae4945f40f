"""A shopping cart."""


class Cart:
    def __init__(self):
        self.lines = {}

    def add(self, sku, quantity=1):
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        self.lines[sku] = self.lines.get(sku, 0) + quantity

    def remove(self, sku):
        self.lines.pop(sku, None)

    def count(self):
        return sum(self.lines.values())
