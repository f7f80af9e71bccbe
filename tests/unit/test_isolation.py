"""Every route of /openapi.json refuses everyone who must not reach the owner's app
(issue 8): new routes are covered as they are added."""

from __future__ import annotations

import pytest

from hangar.api import app as api_app
from hangar.api.scopes import DEPLOY_TOKEN_ROUTES, ORG_TOKEN_ROUTES
from tests.support.isolation import call_table, identities, prepare, routes


@pytest.fixture
def table(fake_platform):
    prepare(fake_platform)
    api = api_app.create_api(fake_platform)
    return call_table(fake_platform, api), routes(api), len(identities(fake_platform))


def test_every_route_is_called_as_every_identity(table):
    calls, every_route, identity_count = table
    assert len(every_route) >= 28
    assert {(c.method, c.path) for c in calls} == set(every_route)
    assert len(calls) == identity_count * len(every_route) and identity_count == 8


def test_no_token_an_expired_one_or_a_revoked_one_gets_401_everywhere(table):
    calls, *_ = table
    wrong = [
        c for c in calls if c.identity in ("no token", "expired", "revoked") and c.status != 401
    ]
    assert wrong == []


def test_another_user_is_refused_on_the_owners_app_and_sees_nothing_of_it(table):
    calls, *_ = table
    theirs = [c for c in calls if c.identity == "another user"]
    on_web = [c for c in theirs if "{name}" in c.path]
    assert [c for c in on_web if c.status not in (403, 404)] == []
    assert [c for c in theirs if c.leaked] == []


def test_deploy_tokens_are_refused_outside_their_app_and_scope(table):
    calls, *_ = table
    other_app = [
        c for c in calls if c.identity == "deploy token of another app" and "{name}" in c.path
    ]
    assert [c for c in other_app if c.status != 403] == []
    assert [c for c in other_app if c.leaked] == []
    web = [c for c in calls if c.identity == "deploy token of web"]
    outside = [c for c in web if (c.method, c.path) not in DEPLOY_TOKEN_ROUTES]
    assert outside and [c for c in outside if c.status != 403] == []
    inside = [c for c in web if (c.method, c.path) in DEPLOY_TOKEN_ROUTES]
    assert [c for c in inside if c.status in (401, 403)] == []


def test_an_org_token_reaches_nothing_outside_its_org(table):
    calls, *_ = table
    other_org = [c for c in calls if c.identity == "org token of another org"]
    on_web = [c for c in other_org if "{name}" in c.path or "{org}" in c.path]
    assert on_web and [c for c in on_web if c.status != 403] == []
    assert [c for c in other_org if c.leaked] == []


def test_an_org_token_does_what_a_member_may_in_its_org_and_no_more(table):
    calls, *_ = table
    own_org = [c for c in calls if c.identity == "org token of web's org"]
    outside = [c for c in own_org if (c.method, c.path) not in ORG_TOKEN_ROUTES]
    assert ("DELETE", "/v1/apps/{name}") in {(c.method, c.path) for c in outside}
    assert [c for c in outside if c.status != 403] == []
    inside = [c for c in own_org if (c.method, c.path) in ORG_TOKEN_ROUTES]
    assert len(inside) == len(ORG_TOKEN_ROUTES)
    assert [c for c in inside if c.status in (401, 403)] == []
