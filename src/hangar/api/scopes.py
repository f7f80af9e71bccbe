"""What a token that is not a login may do (deny by default: new routes refuse it).

A deploy token: deploy, read status, logs and releases, and set secrets, of its
one app. An org token: what a member may do in its one org (see and create its
apps, deploy, scale, restart, secrets, machines), but not destroy an app,
manage members or tokens, or reach another org.
"""

from __future__ import annotations

from typing import NoReturn

from hangar.errors import Forbidden

ANY_TOKEN_ROUTES = frozenset({("GET", "/v1/auth/whoami"), ("POST", "/v1/auth/logout")})
DEPLOY_TOKEN_ROUTES = ANY_TOKEN_ROUTES | {
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
ORG_TOKEN_ROUTES = DEPLOY_TOKEN_ROUTES | {
    ("GET", "/v1/orgs"),
    ("GET", "/v1/orgs/{org}"),
    ("GET", "/v1/apps"),
    ("POST", "/v1/apps"),
    ("POST", "/v1/apps/{name}/rollback"),
    ("POST", "/v1/apps/{name}/restart"),
    ("POST", "/v1/apps/{name}/scale/plan"),
    ("POST", "/v1/apps/{name}/scale/count"),
    ("POST", "/v1/apps/{name}/scale/vm"),
    ("POST", "/v1/apps/{name}/machines/{machine_id}/stop"),
    ("POST", "/v1/apps/{name}/machines/{machine_id}/start"),
    ("POST", "/v1/apps/{name}/machines/{machine_id}/clone"),
    ("DELETE", "/v1/apps/{name}/machines/{machine_id}"),
}


def check_deploy_scope(app: str, method: str, route: str, path_app: str | None) -> None:
    """Forbidden unless a deploy token of `app` may call `method route` on `path_app`."""
    allowed = (method, route) in DEPLOY_TOKEN_ROUTES and path_app in (None, app)
    if not allowed:
        raise Forbidden(
            f"a deploy token of app {app} cannot do this",
            hint=f"it can deploy {app}, read its status, logs and releases, and set its secrets; "
            "use your own login for anything else",
        )


def check_org_scope(org: str, method: str, route: str, path_orgs: set[str]) -> None:
    """Forbidden unless an org token of `org` may call `method route`, on a path that names
    only `org` (itself, or an app of it)."""
    if (method, route) not in ORG_TOKEN_ROUTES:
        raise Forbidden(
            f"an org token of {org} cannot do this",
            hint="it can do what a member may in that org, but not destroy apps or manage "
            "members and tokens; use your own login for that",
        )
    if path_orgs - {org}:
        refuse_other_org(org)


def org_for(token_org: str | None, asked: str | None) -> str | None:
    """The org a listing or a new app is for: what was asked, within an org token's own."""
    if token_org is None or asked in (None, token_org):
        return token_org or asked
    refuse_other_org(token_org)


def refuse_other_org(org: str) -> NoReturn:
    raise Forbidden(
        f"an org token of {org} reaches only {org} and its apps",
        hint="use a token of the other org, or your own login",
    )
