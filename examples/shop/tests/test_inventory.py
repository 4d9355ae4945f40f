from shop.inventory import Inventory


class TestReserve:
    def test_reserve_in_stock(self):
        assert Inventory({"apple": 3}).reserve("apple", 2)

    def test_reserve_out_of_stock(self):
        assert not Inventory({"apple": 1}).reserve("apple", 2)

    def test_reserve_unknown_sku(self, slow):
        slow(0.1)
        assert not Inventory({}).reserve("kiwi", 1)

    def test_bulk_reservations(self, slow):
        slow(1.2)
        inventory = Inventory({"apple": 1000})
        assert all(inventory.reserve("apple", 1) for _ in range(1000))
        assert not inventory.reserve("apple", 1)
