from shop.cart import Cart
from shop.pricing import price


def total(cart):
    return sum(price(sku, quantity) for sku, quantity in cart.lines.items())


def test_checkout_single_item(slow):
    slow(0.8)
    cart = Cart()
    cart.add("melon")
    assert total(cart) == 300


def test_checkout_many_items(slow):
    slow(1.5)
    cart = Cart()
    for sku in ("apple", "pear", "melon"):
        cart.add(sku, 2)
    assert total(cart) == 840


def test_checkout_empty(slow):
    slow(0.4)
    assert total(Cart()) == 0
