"""Which images an app may be deployed from without a build (`hangar deploy --image`).

Only images this server built for the app (its own releases' images) and the
images the operator allows (the local base images by default, `--allowed-images`).
A reference is resolved on the engine to its full id first, so a tag, an id or
an id prefix of an allowed image all pass, and another tenant's image passes
under no name. Every refusal reads the same whether the image is missing or
someone else's, so images cannot be found by probing.
"""

from __future__ import annotations

from sqlalchemy import select

from hangar.control.apps import find_app
from hangar.control.platform import Platform
from hangar.domain.image_names import is_release_image
from hangar.errors import Forbidden
from hangar.store.models import Release


def check_deployable(platform: Platform, app: str, ref: str) -> None:
    """Raise Forbidden unless `app` may run the image `ref` names."""
    image_id = platform.runtime.image_id(ref)
    if image_id is None or image_id not in _deployable_ids(platform, app):
        raise Forbidden(
            f"image {ref!r} is not one {app} can deploy",
            hint="deploy an image of one of its releases (see `hangar releases`), an image "
            "the operator allows, or deploy from a folder with a Dockerfile",
        )


def _deployable_ids(platform: Platform, app: str) -> set[str]:
    with platform.db.session() as session:
        app_id = find_app(session, app).id
        images = set(session.scalars(select(Release.image).where(Release.app_id == app_id)))
    own = {image for image in images if is_release_image(app, image)}
    refs = own | set(platform.settings.allowed_images)
    resolved = (platform.runtime.image_id(ref) for ref in refs)
    return {image_id for image_id in resolved if image_id is not None}
