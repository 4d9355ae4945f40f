import pytest

from shop.cart import Cart


def test_empty_cart_has_no_items():
    assert Cart().count() == 0


@pytest.mark.parametrize("quantity", [1, 2, 5, 10])
def test_add_counts_quantity(quantity):
    cart = Cart()
    cart.add("apple", quantity)
    assert cart.count() == quantity


def test_add_rejects_zero():
    with pytest.raises(ValueError):
        Cart().add("apple", 0)


def test_remove_forgets_line(slow):
    slow(0.05)
    cart = Cart()
    cart.add("pear")
    cart.remove("pear")
    assert cart.count() == 0
