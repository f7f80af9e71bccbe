"""The API app over the fake platform, and a client of it, for the unit tests that need them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from hangar.api import app as api_app


@pytest.fixture
def api(fake_platform):
    return api_app.create_api(fake_platform)


@pytest.fixture
def client(api):
    with TestClient(api) as test_client:
        yield test_client
