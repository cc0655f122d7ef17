import pytest
from pytest_socket import disable_socket, enable_socket


@pytest.fixture(autouse=True)
def _network_off():
    """Unit tests never touch the network."""
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()
