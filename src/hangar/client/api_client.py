"""Python SDK over the Hangar API; the CLI uses only this."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, cast
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from hangar.domain.events import Event
from hangar.errors import HangarError

UPLOAD_CHUNK = 256 * 1024


class ApiError(HangarError):
    """An error the server answered with, or failing to reach it."""

    def __init__(self, message: str, hint: str = "", status: int = 0) -> None:
        super().__init__(message, hint)
        self.status = status


class HangarClient:
    def __init__(self, api_url: str, token: str | None = None, timeout: float = 60.0) -> None:
        self.api_url = api_url
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=api_url, headers=headers, timeout=timeout)

    # auth
    def signup(self, email: str, password: str, invite: str | None = None) -> dict[str, Any]:
        body = {"email": email, "password": password, "invite": invite}
        return self._object("POST", "/v1/auth/signup", json=body)

    def login(self, email: str, password: str) -> dict[str, Any]:
        return self._object("POST", "/v1/auth/login", json={"email": email, "password": password})

    def whoami(self) -> dict[str, Any]:
        return self._object("GET", "/v1/auth/whoami")

    def logout(self) -> None:
        self._json("POST", "/v1/auth/logout")

    def change_password(self, current: str, new: str) -> None:
        body = {"current_password": current, "new_password": new}
        self._json("POST", "/v1/auth/password", json=body)

    # tokens
    def tokens(self) -> list[dict[str, Any]]:
        return self._list("GET", "/v1/tokens")

    def create_deploy_token(
        self, app: str, expiry_s: float | None, name: str = ""
    ) -> dict[str, Any]:
        body = {"app": app, "expiry_s": expiry_s, "name": name}
        return self._object("POST", "/v1/tokens/deploy", json=body)

    def create_org_token(
        self, org: str | None, expiry_s: float | None, name: str = ""
    ) -> dict[str, Any]:
        body = {"org": org, "expiry_s": expiry_s, "name": name}
        return self._object("POST", "/v1/tokens/org", json=body)

    def revoke_token(self, token_id: int) -> None:
        self._json("DELETE", f"/v1/tokens/{token_id}")

    # apps
    def create_app(
        self, name: str | None, region: str = "local", org: str | None = None
    ) -> dict[str, Any]:
        return self._object("POST", "/v1/apps", json={"name": name, "region": region, "org": org})

    def list_apps(self, org: str | None = None) -> list[dict[str, Any]]:
        return self._list("GET", "/v1/apps", params={"org": org} if org else None)

    # orgs
    def orgs(self) -> list[dict[str, Any]]:
        return self._list("GET", "/v1/orgs")

    def create_org(self, name: str) -> dict[str, Any]:
        return self._object("POST", "/v1/orgs", json={"name": name})

    def org(self, name: str) -> dict[str, Any]:
        return self._object("GET", f"/v1/orgs/{name}")

    def invite(self, org: str, email: str, role: str) -> dict[str, Any]:
        return self._object("POST", f"/v1/orgs/{org}/invites", json={"email": email, "role": role})

    def remove_member(self, org: str, email: str) -> None:
        self._json("DELETE", f"/v1/orgs/{org}/members/{quote(email, safe='@')}")

    def leave_org(self, org: str) -> None:
        self._json("POST", f"/v1/orgs/{org}/leave")

    def join_org(self, code: str) -> dict[str, Any]:
        return self._object("POST", "/v1/orgs/join", json={"code": code})

    def app_status(self, app: str) -> dict[str, Any]:
        return self._object("GET", f"/v1/apps/{app}")

    def destroy_app(self, app: str) -> None:
        self._json("DELETE", f"/v1/apps/{app}")

    def releases(self, app: str) -> list[dict[str, Any]]:
        return self._list("GET", f"/v1/apps/{app}/releases")

    def app_config(self, app: str) -> dict[str, Any]:
        return self._object("GET", f"/v1/apps/{app}/config")

    # deploys
    def upload(self, app: str, archive: bytes, on_progress: Callable[[int], None]) -> str:
        def chunks() -> Iterator[bytes]:
            for start in range(0, len(archive), UPLOAD_CHUNK):
                chunk = archive[start : start + UPLOAD_CHUNK]
                yield chunk
                on_progress(len(chunk))

        headers = {"Content-Type": "application/gzip", "Content-Length": str(len(archive))}
        body = self._json("POST", f"/v1/apps/{app}/uploads", content=chunks(), headers=headers)
        return str(body["upload_id"])

    def deploy(self, app: str, config: dict[str, Any], **options: Any) -> str:
        body = self._json("POST", f"/v1/apps/{app}/deploys", json={"config": config, **options})
        return str(body["id"])

    def rollback(self, app: str, version: int | None, **options: Any) -> str:
        body = self._object(
            "POST", f"/v1/apps/{app}/rollback", json={"version": version, **options}
        )
        return str(body["id"])

    def deploy_events(self, app: str, deployment_id: str) -> Iterator[Event]:
        return self._events(f"/v1/apps/{app}/deploys/{deployment_id}/events")

    def local_ca(self) -> dict[str, Any]:
        return self._object("GET", "/v1/certs/ca")

    def domains(self, app: str) -> list[dict[str, Any]]:
        return self._list("GET", f"/v1/apps/{app}/certs")

    def add_domain(self, app: str, hostname: str) -> dict[str, Any]:
        return self._object("POST", f"/v1/apps/{app}/certs", json={"hostname": hostname})

    def domain(self, app: str, hostname: str, check: bool = False) -> dict[str, Any]:
        path = f"/v1/apps/{app}/certs/{quote(hostname, safe='')}"
        return self._object("POST", f"{path}/check") if check else self._object("GET", path)

    def remove_domain(self, app: str, hostname: str) -> None:
        self._json("DELETE", f"/v1/apps/{app}/certs/{quote(hostname, safe='')}")

    # machines and logs
    def machines(self, app: str) -> list[dict[str, Any]]:
        return self._list("GET", f"/v1/apps/{app}/machines")

    def machine_action(self, app: str, machine_id: str, action: str) -> None:
        if action == "destroy":
            self._json("DELETE", f"/v1/apps/{app}/machines/{machine_id}")
        else:
            self._json("POST", f"/v1/apps/{app}/machines/{machine_id}/{action}")

    def logs(
        self, app: str, machine: str | None, follow: bool, tail: int = 100, edge: bool = False
    ) -> Iterator[dict[str, Any]]:
        params: dict[str, Any] = {"follow": follow, "tail": tail, "edge": edge}
        if machine:
            params["machine"] = machine
        return self._stream(f"/v1/apps/{app}/logs", params=params)

    # secrets (values go up, never come back)
    def secrets(self, app: str) -> list[dict[str, Any]]:
        return self._list("GET", f"/v1/apps/{app}/secrets")

    def set_secrets(self, app: str, values: dict[str, str], stage: bool) -> dict[str, Any]:
        body = {"secrets": values, "stage": stage}
        return self._object("POST", f"/v1/apps/{app}/secrets", json=body)

    def unset_secrets(self, app: str, names: list[str], stage: bool) -> dict[str, Any]:
        params: dict[str, Any] = {"names": names, "stage": stage}
        return self._object("DELETE", f"/v1/apps/{app}/secrets", params=params)

    def deploy_secrets(self, app: str) -> dict[str, Any]:
        return self._object("POST", f"/v1/apps/{app}/secrets/deploy")

    # scaling, restarts, clones (count, restart and clone stream their events)
    def scale_show(self, app: str) -> dict[str, Any]:
        return self._object("GET", f"/v1/apps/{app}/scale")

    def scale_plan(self, app: str, count: int) -> dict[str, Any]:
        return self._object("POST", f"/v1/apps/{app}/scale/plan", json={"count": count})

    def scale_count(self, app: str, count: int) -> Iterator[Event]:
        return self._events(f"/v1/apps/{app}/scale/count", "POST", json={"count": count})

    def scale_vm(self, app: str, size: str | None, memory: int | str | None) -> str:
        body = self._object(
            "POST", f"/v1/apps/{app}/scale/vm", json={"size": size, "memory": memory}
        )
        return str(body["id"])

    def restart_app(self, app: str) -> Iterator[Event]:
        return self._events(f"/v1/apps/{app}/restart", "POST")

    def clone_machine(self, app: str, machine_id: str) -> Iterator[Event]:
        return self._events(f"/v1/apps/{app}/machines/{machine_id}/clone", "POST")

    # plumbing
    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise _unreachable(self.api_url, exc) from exc
        _raise_for_error(response)
        return response.json() if response.content else None

    def _object(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return cast(dict[str, Any], self._json(method, path, **kwargs))

    def _list(self, method: str, path: str, **kwargs: Any) -> list[dict[str, Any]]:
        return cast(list[dict[str, Any]], self._json(method, path, **kwargs))

    def _events(self, path: str, method: str = "GET", **kwargs: Any) -> Iterator[Event]:
        """A deploy's or an operation's events, read into the schema the server wrote."""
        return (_event(told) for told in self._stream(path, method, **kwargs))

    def _stream(self, path: str, method: str = "GET", **kwargs: Any) -> Iterator[dict[str, Any]]:
        try:
            with self._http.stream(method, path, timeout=None, **kwargs) as response:
                if response.is_error:
                    response.read()
                    _raise_for_error(response)
                for line in response.iter_lines():
                    if line.strip():
                        yield json.loads(line)
        except httpx.HTTPError as exc:
            raise _unreachable(self.api_url, exc) from exc


def _event(told: dict[str, Any]) -> Event:
    try:
        return Event.model_validate(told)
    except ValidationError:  # a kind this client does not know yet: shown as a step
        return Event(type="phase", message=str(told.get("message", told)))


def _raise_for_error(response: httpx.Response) -> None:
    if not response.is_error:
        return
    try:
        body = response.json()
        message = body.get("message") or body.get("detail") or str(body)
        hint = body.get("hint", "")
    except ValueError:
        message, hint = f"the server answered {response.status_code}", ""
    raise ApiError(message, hint, response.status_code)


def _unreachable(url: str, exc: httpx.HTTPError) -> ApiError:
    return ApiError(
        f"cannot reach the Hangar API at {url} ({exc.__class__.__name__}: {exc})",
        hint="start it with `hangar server`, or point --api-url / HANGAR_API_URL at it",
    )
