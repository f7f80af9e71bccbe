"""Secrets on fakes: validation, all-or-nothing changes, status, the API never shows values."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass, field

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from hangar.api.app import create_api
from hangar.cli.secrets import parse_pairs
from hangar.control import secrets
from hangar.control.accounts import signup
from hangar.control.apps import create_app
from hangar.control.deploy import secrets_restart
from hangar.control.deploy.engine import Deployer, DeployRequest
from hangar.control.platform import Platform
from hangar.control.supervision.reconcile import desired_routes
from hangar.errors import Conflict, InvalidInput, NotFound
from hangar.ports import ContainerInfo, ContainerSpec
from hangar.store.models import App, Release, Secret, User
from hangar.store.secret_box import SecretBox, SecretsKeyError
from hangar.testing import FakeRuntime
from tests.support.platform import http_config

VALUE = "hunter2-very-secret"


@dataclass
class RecordingRuntime(FakeRuntime):
    """The fake runtime, keeping the env each machine was started with."""

    envs: dict[str, dict[str, str]] = field(default_factory=dict)

    def run(self, spec: ContainerSpec) -> ContainerInfo:
        self.envs[spec.machine_id] = dict(spec.env)
        return super().run(spec)


@pytest.fixture
def platform(fake_platform) -> Platform:
    runtime = RecordingRuntime()
    fake_platform.runtime = runtime
    fake_platform.builder.runtime = runtime
    with fake_platform.db.session() as session:
        signup(session, "dev@example.com", "secret-password")
        create_app(session, session.scalar(select(User)), "web")
    fake_platform.edge.sync(desired_routes(fake_platform))
    return fake_platform


def _set(platform, values, app="web"):
    with platform.db.session() as session:
        app_row = session.scalar(select(App).where(App.name == app))
        return platform.secrets.set(session, app_row, values)


def _unset(platform, names):
    with platform.db.session() as session:
        return secrets.unset(session, session.scalar(select(App)), names)


def _listed(platform):
    with platform.db.session() as session:
        return secrets.list_secrets(session, session.scalar(select(App)))


def deploy_now(platform, tmp_path):
    context = tmp_path / "ctx"
    context.mkdir(exist_ok=True)
    request = DeployRequest(
        app="web", user_email="dev@example.com", config=http_config("web"), context_dir=context
    )
    return Deployer(platform).run_sync(request)


# names


@pytest.mark.parametrize("name", ["A", "_x", "DATABASE_URL", "a1_B2", "x" * 255])
def test_env_var_names_are_valid(name):
    secrets.validate_name(name)


@pytest.mark.parametrize("name", ["1ABC", "MY-KEY", "a b", "ä", "A.B", "x" * 256, "K\n"])
def test_other_names_are_refused_with_a_hint(name):
    with pytest.raises(InvalidInput) as caught:
        secrets.validate_name(name)
    assert "not a valid secret name" in caught.value.message
    assert "environment variable" in caught.value.hint


def test_empty_and_reserved_names_are_refused():
    with pytest.raises(InvalidInput, match="cannot be empty"):
        secrets.validate_name("")
    for name in ("FLY_APP_NAME", "FLY_ANYTHING", "PRIMARY_REGION"):
        with pytest.raises(InvalidInput, match="reserved"):
            secrets.validate_name(name)


def test_bad_values_are_refused_without_showing_them():
    for value in (VALUE + "\0", "x" * (secrets.MAX_VALUE_BYTES + 1)):
        with pytest.raises(InvalidInput) as caught:
            secrets.check_values({"TOKEN": value})
        assert "TOKEN" in caught.value.message
        assert value not in str(caught.value)


# storing


def test_set_stores_ciphertext_and_digest_never_the_value(platform):
    assert _set(platform, {"B": VALUE, "A": "other"}) == ["A", "B"]
    with platform.db.session() as session:
        rows = {s.name: s for s in session.scalars(select(Secret))}
    assert VALUE not in rows["B"].ciphertext
    assert rows["B"].digest == platform.secrets.box.digest(VALUE)
    assert {s.status for s in rows.values()} == {"staged"}
    assert platform.secrets.env_for("web") == {"A": "other", "B": VALUE}


def test_plain_sha256_digests_of_an_older_version_are_replaced_by_keyed_ones(platform):
    _set(platform, {"A": VALUE, "B": "other"})
    with platform.db.session() as session:
        for secret in session.scalars(select(Secret)):
            secret.digest = hashlib.sha256(b"what an older version stored").hexdigest()

    assert platform.secrets.rekey_digests() == 2
    assert platform.secrets.rekey_digests() == 0
    with platform.db.session() as session:
        digests = {s.name: s.digest for s in session.scalars(select(Secret))}
    assert digests == {
        "A": platform.secrets.box.digest(VALUE),
        "B": platform.secrets.box.digest("other"),
    }


def test_a_bad_name_leaves_every_secret_unchanged(platform):
    _set(platform, {"KEEP": "old"})
    with pytest.raises(InvalidInput):
        _set(platform, {"KEEP": "new", "NEW": "x", "bad-name": "y"})
    assert platform.secrets.env_for("web") == {"KEEP": "old"}


def test_list_never_contains_values(platform):
    _set(platform, {"TOKEN": VALUE})
    [info] = _listed(platform)
    assert (info.name, info.status, len(info.digest)) == ("TOKEN", "staged", 16)
    assert VALUE not in repr(info)


def test_unset_removes_and_a_missing_name_changes_nothing(platform):
    _set(platform, {"A": "1", "B": "2"})
    with pytest.raises(NotFound) as caught:
        _unset(platform, ["A", "NOPE"])
    assert "NOPE" in caught.value.message and caught.value.hint
    assert [i.name for i in _listed(platform)] == ["A", "B"]
    assert _unset(platform, ["A", "A"]) == ["A"]
    assert platform.secrets.env_for("web") == {"B": "2"}


def test_env_for_with_the_wrong_key_names_the_secret_not_its_value(platform):
    _set(platform, {"TOKEN": VALUE})
    other = secrets.SecretStore(platform.db, SecretBox(Fernet.generate_key()))
    with pytest.raises(SecretsKeyError) as caught:
        other.env_for("web")
    assert "TOKEN" in caught.value.message and "web" in caught.value.message
    assert VALUE not in str(caught.value)


# deploys


def test_staged_secrets_go_with_the_first_deploy_and_become_deployed(platform, tmp_path):
    _set(platform, {"TOKEN": VALUE})
    with platform.db.session() as session:
        assert secrets_restart.deployed_target(session, session.scalar(select(App))) is None
    assert deploy_now(platform, tmp_path).status == "complete"
    assert [env["TOKEN"] for env in platform.runtime.envs.values()] == [VALUE, VALUE]
    assert [i.status for i in _listed(platform)] == ["deployed"]


def test_a_secret_set_after_the_release_began_stays_staged(platform):
    with platform.db.session() as session:
        app = session.scalar(select(App))
        session.add(Release(app_id=app.id, version=1, status="complete", image="i", config={}))
    _set(platform, {"LATE": "x"})
    with platform.db.session() as session:
        secrets.mark_deployed(session, session.scalar(select(App)), 1)
    assert [i.status for i in _listed(platform)] == ["staged"]


# the API


def _test_client(api):
    with warnings.catch_warnings():  # starlette prefers httpx2 over httpx: irrelevant here
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        from fastapi.testclient import TestClient
    return TestClient(api)


@pytest.fixture
def api(platform):
    client = _test_client(create_api(platform))
    token = client.post(
        "/v1/auth/login", json={"email": "dev@example.com", "password": "secret-password"}
    ).json()["token"]
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def _follow(api, deployment_id):
    deployer = api.app.state.deployer
    return list(deployer.get(deployment_id).events.follow())


def test_api_set_on_a_deployed_app_restarts_it_with_the_secret(platform, api, tmp_path):
    deploy_now(platform, tmp_path)
    answer = api.post("/v1/apps/web/secrets", json={"secrets": {"TOKEN": VALUE}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["names"] == ["TOKEN"]
    _follow(api, answer.json()["deployment"])
    releases = api.get("/v1/apps/web/releases").json()
    latest = releases[0]
    assert (latest["version"], latest["status"], latest["description"]) == (
        2,
        "complete",
        "Update secrets",
    )
    assert releases[0]["image"] == releases[1]["image"]
    started = [env for env in platform.runtime.envs.values() if env["FLY_RELEASE_VERSION"] == "2"]
    assert [env["TOKEN"] for env in started] == [VALUE, VALUE]
    listed = api.get("/v1/apps/web/secrets")
    assert listed.json()[0]["status"] == "deployed"
    assert VALUE not in listed.text


def test_api_stage_and_not_deployed_apps_start_no_deploy(platform, api, tmp_path):
    answer = api.post("/v1/apps/web/secrets", json={"secrets": {"A": "1"}})
    assert answer.json()["deployment"] is None
    assert api.post("/v1/apps/web/secrets/deploy").status_code == 422
    deploy_now(platform, tmp_path)
    staged = api.post("/v1/apps/web/secrets", json={"secrets": {"B": "2"}, "stage": True})
    assert staged.json()["deployment"] is None
    unset = api.delete("/v1/apps/web/secrets", params={"names": ["A"], "stage": True})
    assert unset.json() == {"app": "web", "names": ["A"], "deployment": None}
    assert [r["version"] for r in api.get("/v1/apps/web/releases").json()] == [1]


def test_api_a_running_deploy_keeps_the_change_staged_and_says_so(platform, api, tmp_path):
    deploy_now(platform, tmp_path)

    def busy(request):
        raise Conflict("deployment abc of web is still running", hint="wait")

    api.app.state.deployer.start = busy
    answer = api.post("/v1/apps/web/secrets", json={"secrets": {"A": "1"}})
    assert answer.status_code == 409
    assert "saved but not applied" in answer.json()["message"]
    assert "hangar secrets deploy -a web" in answer.json()["hint"]
    assert [(i.name, i.status) for i in _listed(platform)] == [("A", "staged")]


def test_api_errors_are_clear_and_never_echo_values(api):
    bad = api.post("/v1/apps/web/secrets", json={"secrets": {"bad-name": VALUE}})
    assert bad.status_code == 422
    assert "bad-name" in bad.json()["message"] and bad.json()["hint"]
    wrong_type = api.post("/v1/apps/web/secrets", json={"secrets": {"A": 12345678}})
    assert wrong_type.status_code == 422 and "12345678" not in wrong_type.text
    missing = api.delete("/v1/apps/web/secrets", params={"names": ["NOPE"]})
    assert missing.status_code == 404
    assert api.get("/v1/apps/nope/secrets").status_code == 404
    assert VALUE not in bad.text


def test_api_refuses_someone_elses_app(platform, api):
    api.post("/v1/auth/signup", json={"email": "b@example.com", "password": "other-password"})
    with platform.db.session() as session:
        other = session.scalar(select(User).where(User.email == "b@example.com"))
        create_app(session, other, "theirs")
    answer = api.post("/v1/apps/theirs/secrets", json={"secrets": {"A": "1"}})
    assert answer.status_code == 403
    assert api.get("/v1/apps/theirs/secrets").status_code == 403


# the CLI's parsing


def test_parse_pairs_from_arguments_and_stdin():
    stdin = io.StringIO("# a comment\n\nA=1\nB=x=y\nEMPTY=\n")
    assert parse_pairs(["C=3", "-"], stdin) == {"C": "3", "A": "1", "B": "x=y", "EMPTY": ""}


def test_parse_pairs_errors_name_the_position_not_the_text():
    with pytest.raises(InvalidInput) as caught:
        parse_pairs(["A=1", VALUE], io.StringIO())
    assert "argument 2" in caught.value.message and VALUE not in str(caught.value)
    with pytest.raises(InvalidInput, match="line 2 of stdin"):
        parse_pairs(["-"], io.StringIO("A=1\n" + VALUE + "\n"))
    with pytest.raises(InvalidInput, match="no secrets given"):
        parse_pairs(["-"], io.StringIO("# nothing\n"))
