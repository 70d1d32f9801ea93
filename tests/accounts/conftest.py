import pytest

from tests.accounts.helpers import sign_up


@pytest.fixture
def ada():
    return sign_up()
