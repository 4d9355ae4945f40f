import time

import pytest


@pytest.fixture
def slow():
    """Stands in for work that takes time: a real suite's database, network or CPU."""
    return time.sleep
