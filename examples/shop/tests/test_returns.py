"""Added after the recorded runs: rxdist has no timings for these tests yet."""

from shop.cart import Cart


def test_return_restores_cart(slow):
    slow(0.3)
    cart = Cart()
    cart.add("apple", 2)
    cart.remove("apple")
    assert cart.count() == 0


def test_return_of_unknown_item_is_harmless():
    cart = Cart()
    cart.remove("kiwi")
    assert cart.count() == 0
