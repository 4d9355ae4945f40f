import pytest

from shop.pricing import discount, price


@pytest.mark.parametrize("sku,quantity,expected", [("apple", 1, 50), ("pear", 2, 140), ("melon", 3, 900)])
def test_price(sku, quantity, expected):
    assert price(sku, quantity) == expected


@pytest.mark.parametrize("percent", [0, 10, 50, 100])
def test_discount_stays_in_range(percent, slow):
    slow(0.02)
    assert 0 <= discount(1000, percent) <= 1000


class TestDiscountErrors:
    def test_negative_percent(self):
        with pytest.raises(ValueError):
            discount(100, -1)

    def test_percent_over_hundred(self, slow):
        slow(0.3)
        with pytest.raises(ValueError):
            discount(100, 101)
