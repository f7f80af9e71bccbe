"""What a deploy token may do: deploy, read status, logs and releases, and set secrets,
of its one app. Every other route refuses it, new routes included (deny by default)."""

from __future__ import annotations

from hangar.errors import Forbidden

DEPLOY_TOKEN_ROUTES = frozenset(
    {
        ("GET", "/v1/auth/whoami"),
        ("POST", "/v1/auth/logout"),
        ("GET", "/v1/apps/{name}"),
        ("GET", "/v1/apps/{name}/releases"),
        ("GET", "/v1/apps/{name}/config"),
        ("POST", "/v1/apps/{name}/uploads"),
        ("POST", "/v1/apps/{name}/deploys"),
        ("GET", "/v1/apps/{name}/deploys/{deployment_id}/events"),
        ("GET", "/v1/apps/{name}/machines"),
        ("GET", "/v1/apps/{name}/logs"),
        ("GET", "/v1/apps/{name}/scale"),
        ("GET", "/v1/apps/{name}/secrets"),
        ("POST", "/v1/apps/{name}/secrets"),
        ("DELETE", "/v1/apps/{name}/secrets"),
        ("POST", "/v1/apps/{name}/secrets/deploy"),
    }
)


def check_deploy_scope(app: str, method: str, route: str, path_app: str | None) -> None:
    """Forbidden unless a deploy token of `app` may call `method route` on `path_app`."""
    allowed = (method, route) in DEPLOY_TOKEN_ROUTES and path_app in (None, app)
    if not allowed:
        raise Forbidden(
            f"a deploy token of app {app} cannot do this",
            hint=f"it can deploy {app}, read its status, logs and releases, and set its secrets; "
            "use your own login for anything else",
        )
