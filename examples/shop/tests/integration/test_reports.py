import pytest


@pytest.mark.parametrize("day", range(6))
def test_daily_report(day, slow):
    slow(0.35)
    assert day < 7
