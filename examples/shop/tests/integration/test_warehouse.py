import time

import pytest

from shop.inventory import Inventory


@pytest.fixture(scope="module")
def warehouse():
    # A module-scoped fixture: its cost lands on the first test of the file.
    time.sleep(0.9)
    return Inventory({"apple": 100, "pear": 50})


@pytest.mark.parametrize("sku", ["apple", "pear"])
def test_warehouse_has_stock(warehouse, sku, slow):
    slow(0.2)
    assert warehouse.stock[sku] > 0


def test_warehouse_reserve(warehouse, slow):
    slow(0.2)
    assert warehouse.reserve("pear", 10)


def test_warehouse_refuses_overdraw(warehouse, slow):
    slow(0.2)
    assert not warehouse.reserve("pear", 1000)
