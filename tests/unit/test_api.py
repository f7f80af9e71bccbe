"""The HTTP API over the fake platform: status codes, error bodies, ownership, the loop."""

from __future__ import annotations

import asyncio
import io
import json
import tarfile
import threading
from dataclasses import replace

import httpx

from hangar.control import uploads
from tests.support.platform import http_config

CONFIG = http_config("web").model_dump(mode="json")  # what `hangar deploy` sends


def signed_up(client, email="dev@example.com") -> dict[str, str]:
    response = client.post("/v1/auth/signup", json={"email": email, "password": "secret-pass"})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def project_archive(extra_bytes: int = 0) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in (("Dockerfile", b"FROM scratch\n"), ("big", b"\0" * extra_bytes)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_every_app_route_wants_a_token(client):
    for method, path in (("get", "/v1/apps"), ("get", "/v1/apps/web"), ("post", "/v1/apps")):
        response = client.request(method, path)
        assert response.status_code == 401
        assert response.json()["hint"] == "log in with `hangar auth login`"


def test_a_launched_app_is_pending_and_listed_for_its_owner_only(client):
    owner, other = signed_up(client), signed_up(client, "other@example.com")
    assert client.post("/v1/apps", json={"name": "web"}, headers=owner).status_code == 201
    assert client.get("/v1/apps/web", headers=owner).json()["app"]["status"] == "pending"
    assert [app["name"] for app in client.get("/v1/apps", headers=owner).json()] == ["web"]
    assert client.get("/v1/apps", headers=other).json() == []
    refused = client.get("/v1/apps/web", headers=other)
    assert refused.status_code == 403
    assert refused.json()["message"] == "app 'web' is not yours"


def test_a_missing_app_is_404_with_a_hint(client):
    response = client.get("/v1/apps/nope", headers=signed_up(client))
    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "message": "app 'nope' not found",
        "hint": "list your apps with `hangar apps list`",
    }


def test_a_bad_body_is_422_naming_the_field(client):
    response = client.post("/v1/auth/signup", json={"email": "dev@example.com"})
    assert response.status_code == 422
    assert "password" in response.json()["message"]


def test_upload_then_deploy_runs_the_release_and_streams_its_events(client, fake_platform):
    headers = signed_up(client)
    client.post("/v1/apps", json={"name": "web"}, headers=headers)
    upload = client.post("/v1/apps/web/uploads", content=project_archive(), headers=headers)
    assert upload.status_code == 201
    body = {"upload_id": upload.json()["upload_id"], "config": CONFIG}
    started = client.post("/v1/apps/web/deploys", json=body, headers=headers)
    assert started.status_code == 201, started.text
    events_url = f"/v1/apps/web/deploys/{started.json()['id']}/events"
    lines = client.get(events_url, headers=headers).text.splitlines()
    assert json.loads(lines[-1])["type"] == "done"
    assert client.get("/v1/apps/web", headers=headers).json()["app"]["status"] == "deployed"


def test_another_users_deploy_events_are_refused(client):
    owner, other = signed_up(client), signed_up(client, "other@example.com")
    client.post("/v1/apps", json={"name": "web"}, headers=owner)
    upload = client.post("/v1/apps/web/uploads", content=project_archive(), headers=owner)
    body = {"upload_id": upload.json()["upload_id"], "config": CONFIG}
    deployment = client.post("/v1/apps/web/deploys", json=body, headers=owner).json()["id"]
    response = client.get(f"/v1/apps/web/deploys/{deployment}/events", headers=other)
    assert response.status_code == 403
    client.get(f"/v1/apps/web/deploys/{deployment}/events", headers=owner)  # let it finish


def test_another_users_upload_cannot_be_deployed_and_stays_its_owners(client):
    owner, other = signed_up(client), signed_up(client, "other@example.com")
    client.post("/v1/apps", json={"name": "web"}, headers=owner)
    client.post("/v1/apps", json={"name": "api"}, headers=other)
    upload_id = client.post(
        "/v1/apps/web/uploads", content=project_archive(), headers=owner
    ).json()["upload_id"]
    theirs = {"upload_id": upload_id, "config": http_config("api").model_dump(mode="json")}

    refused = client.post("/v1/apps/api/deploys", json=theirs, headers=other)

    assert (
        refused.status_code == 404 and refused.json()["message"] == f"upload {upload_id} not found"
    )
    body = {"upload_id": upload_id, "config": CONFIG}
    started = client.post("/v1/apps/web/deploys", json=body, headers=owner)
    assert started.status_code == 201, started.text
    client.get(f"/v1/apps/web/deploys/{started.json()['id']}/events", headers=owner)


def test_uploads_over_the_users_quota_get_413_naming_the_quota(client, fake_platform):
    fake_platform.settings = replace(fake_platform.settings, upload_quota_bytes=256 * 1024)
    headers = signed_up(client)
    client.post("/v1/apps", json={"name": "web"}, headers=headers)
    first = client.post("/v1/apps/web/uploads", content=project_archive(200_000), headers=headers)
    assert first.status_code == 201

    second = client.post("/v1/apps/web/uploads", content=project_archive(200_000), headers=headers)

    assert second.status_code == 413
    assert second.json()["error"] == "quota_exceeded"
    assert "of your 256 KiB" in second.json()["message"]


def test_healthz_answers_while_an_upload_unpacks(api, client, monkeypatch):
    """The unpacking must not hold the event loop: other requests go on meanwhile."""
    headers = signed_up(client)
    client.post("/v1/apps", json={"name": "web"}, headers=headers)
    unpacking, let_finish, unpacked = threading.Event(), threading.Event(), threading.Event()
    real_unpack = uploads.unpack_safely

    def slow_unpack(*args):
        unpacking.set()
        let_finish.wait(5)
        size = real_unpack(*args)
        unpacked.set()
        return size

    monkeypatch.setattr(uploads, "unpack_safely", slow_unpack)

    async def scenario() -> tuple[bool, int, int]:
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(transport=transport, base_url="http://hangar") as http:
            upload = asyncio.create_task(
                http.post("/v1/apps/web/uploads", content=project_archive(), headers=headers)
            )
            await asyncio.to_thread(unpacking.wait, 5)
            health = await http.get("/healthz")
            answered_while_unpacking = not unpacked.is_set()
            let_finish.set()
            return answered_while_unpacking, health.status_code, (await upload).status_code

    assert asyncio.run(scenario()) == (True, 200, 201)


def test_a_json_body_over_the_limit_is_413_before_it_is_parsed(client):
    huge = b'{"email": "a@example.com", "password": "' + b"x" * (3 * 1024 * 1024) + b'"}'

    declared = client.post(
        "/v1/auth/login", content=huge, headers={"content-type": "application/json"}
    )

    assert declared.status_code == 413 and declared.json()["error"] == "too_large"

    def chunks():
        for start in range(0, len(huge), 65536):
            yield huge[start : start + 65536]

    chunked = client.post(
        "/v1/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert chunked.status_code == 413 and "larger than 2 MiB" in chunked.json()["message"]


def test_unknown_routes_and_methods_answer_in_hangars_error_shape(client):
    missing = client.get("/v1/nothing-here")
    wrong = client.delete("/v1/auth/login")

    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert "GET /v1/nothing-here" in missing.json()["message"]
    assert wrong.status_code == 405 and wrong.json()["hint"]


def test_an_infinite_max_unavailable_is_a_422_naming_the_key(client):
    headers = signed_up(client)
    client.post("/v1/apps", json={"name": "web"}, headers=headers)
    config = {**CONFIG, "deploy": {"max_unavailable": "Infinity"}}

    response = client.post(
        "/v1/apps/web/deploys",
        json={"image": "hangar/busybox:1", "config": config},
        headers=headers,
    )

    assert response.status_code == 422, response.text
    assert "deploy.max_unavailable" in response.json()["message"]
