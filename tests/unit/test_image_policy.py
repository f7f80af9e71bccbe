"""`deploy --image` runs only the app's own images and the allowed base images (issue 8, 1)."""

from __future__ import annotations

from sqlalchemy import select

from hangar.control.accounts import signup
from hangar.control.apps import create_app
from hangar.store.models import App, Release, User
from tests.support.platform import deploy_now, http_config, release_states, setup_app


def _release_images(platform, app):
    with platform.db.session() as session:
        query = select(Release.image).join(App, App.id == Release.app_id).where(App.name == app)
        return list(session.scalars(query.order_by(Release.version)))


def _second_tenant(platform, app="other"):
    with platform.db.session() as session:
        signup(session, "mallory@example.com", "secret-password")
        mallory = session.scalar(select(User).where(User.email == "mallory@example.com"))
        create_app(session, mallory, app)


def _refusal(deployment) -> str:
    events = [e for e in deployment.events.follow() if e is not None]
    assert deployment.status == "failed" and events[-1].type == "error"
    return events[-1].message


def test_an_app_deploys_the_image_of_its_own_release_by_tag_and_by_id(fake_platform, tmp_path):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    own = _release_images(fake_platform, "web")[0]
    by_tag = deploy_now(fake_platform, tmp_path, http_config("web"), image=own)
    by_id = deploy_now(fake_platform, tmp_path, http_config("web"), image=f"sha256:{own}")
    assert (by_tag.status, by_id.status) == ("complete", "complete")


def test_another_tenants_image_is_refused_like_a_missing_one(fake_platform, tmp_path):
    setup_app(fake_platform)
    deploy_now(fake_platform, tmp_path, http_config("web"))
    victims = _release_images(fake_platform, "web")[0]
    _second_tenant(fake_platform)

    stolen = deploy_now(fake_platform, tmp_path, http_config("other"), image=victims)
    missing = deploy_now(fake_platform, tmp_path, http_config("other"), image="hangar/none:1")

    assert _refusal(stolen) == f"image {victims!r} is not one other can deploy"
    assert _refusal(missing).replace("hangar/none:1", victims) == _refusal(stolen)
    assert _release_images(fake_platform, "other") == []


def test_an_allowed_base_image_deploys_and_others_on_the_engine_do_not(fake_platform, tmp_path):
    setup_app(fake_platform)
    fake_platform.runtime.images |= {"hangar/busybox:1", "someone/private:1"}
    allowed = deploy_now(fake_platform, tmp_path, http_config("web"), image="hangar/busybox:1")
    private = deploy_now(fake_platform, tmp_path, http_config("web"), image="someone/private:1")
    assert allowed.status == "complete"
    assert "is not one web can deploy" in _refusal(private)
    assert release_states(fake_platform) == [(1, "complete")]
