"""Disk hygiene: which images a deploy prunes, decided on plain data, then on fakes."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from hangar.control.accounts import signup
from hangar.control.apps import create_app
from hangar.control.deploy.engine import Deployer, DeployRequest
from hangar.control.events import EventLog
from hangar.control.images import (
    BuildRecord,
    ReleaseImage,
    build_record,
    leftover_layers,
    produced_layers,
    release_images_to_remove,
)
from hangar.control.operations.destroy import destroy_app
from hangar.control.supervision.reconcile import desired_routes
from hangar.domain.image_names import (
    is_another_apps_release,
    is_named_by,
    is_release_image,
    release_image,
)
from hangar.errors import RuntimeFailure
from hangar.store.models import App, Release, User
from hangar.testing import FakeBuilder
from tests.support.platform import http_config

BASE = "hangar/busybox:1"

FAILED_BUILD_LOG = """\
Step 1/4 : FROM hangar/busybox:1
 ---> b6736a71db0a
Step 2/4 : COPY x /x
 ---> 3e18a7030bcd
Step 3/4 : RUN echo built > /y
 ---> Running in 97175713ae0d
Removing intermediate container 97175713ae0d
 ---> b4a591be7c24
Step 4/4 : RUN false
 ---> Running in 488001d68d7b
Removing intermediate container 488001d68d7b
The command '/bin/sh -c false' returned a non-zero code: 1"""

MULTI_STAGE_LOG = """\
Step 1/5 : FROM hangar/busybox:1 AS build
 ---> b6736a71db0a
Step 2/5 : COPY x /x
 ---> Using cache
 ---> e443f5593ccf
Step 3/5 : RUN cat /x > /y
 ---> Running in a97fa95327c5
Removing intermediate container a97fa95327c5
 ---> 7713ded3bda7
Step 4/5 : from build
 ---> 7713ded3bda7
Step 5/5 : COPY --from=build /y /y
 ---> 47a4e91ca4ba
Successfully built 47a4e91ca4ba
Successfully tagged hangar/web:deployment-1"""


def tag(app: str, n: int) -> str:
    return f"hangar/{app}:deployment-{n:012x}"


def releases(app: str, statuses: str) -> list[ReleaseImage]:
    """One release per letter, v1 first: c(omplete), f(ailed), r(olled back)."""
    names = {"c": "complete", "f": "failed", "r": "rolled back"}
    return [ReleaseImage(v, names[s], tag(app, v)) for v, s in enumerate(statuses, 1)]


def all_tags(rs: list[ReleaseImage]) -> set[str]:
    return {r.image for r in rs}


# -- release images -----------------------------------------------------------


def test_keeps_the_last_n_releases_and_removes_older_ones_oldest_first():
    rs = releases("web", "ccccccc")
    assert release_images_to_remove("web", rs, 5, set(), all_tags(rs)) == [
        tag("web", 1),
        tag("web", 2),
    ]


def test_nothing_to_remove_until_there_are_more_than_n_releases():
    rs = releases("web", "ccccc")
    assert release_images_to_remove("web", rs, 5, set(), all_tags(rs)) == []


def test_the_current_release_survives_a_run_of_failed_releases():
    rs = releases("web", "cffff")
    assert release_images_to_remove("web", rs, 2, set(), all_tags(rs)) == [
        tag("web", 2),
        tag("web", 3),
    ]


def test_images_in_use_are_kept():
    rs = releases("web", "cccccc")
    in_use = {tag("web", 1), tag("web", 3)}
    assert release_images_to_remove("web", rs, 2, in_use, all_tags(rs)) == [
        tag("web", 2),
        tag("web", 4),
    ]


def test_only_images_still_present_are_removed():
    rs = releases("web", "cccc")
    present = {tag("web", 2), tag("web", 3), tag("web", 4)}
    assert release_images_to_remove("web", rs, 2, set(), present) == [tag("web", 2)]


def test_a_rollback_release_keeps_the_image_it_reuses():
    rs = [*releases("web", "ccc"), ReleaseImage(4, "complete", tag("web", 1))]
    assert release_images_to_remove("web", rs, 2, set(), all_tags(rs)) == [tag("web", 2)]


def test_base_images_foreign_images_and_other_apps_images_are_never_removed():
    old = [
        ReleaseImage(1, "complete", BASE),
        ReleaseImage(2, "complete", "my-own-image:1"),
        ReleaseImage(3, "complete", tag("other", 3)),
        ReleaseImage(4, "complete", tag("web-2", 4)),
        ReleaseImage(5, "complete", "sha256:" + "a" * 64),
    ]
    rs = [*old, *releases("web", "ccccccc")[5:]]
    present = all_tags(rs)
    assert release_images_to_remove("web", rs, 1, set(), present) == [tag("web", 6)]


def test_keep_zero_or_less_still_keeps_the_current_release():
    rs = releases("web", "ccc")
    for keep in (0, -1):
        assert release_images_to_remove("web", rs, keep, set(), all_tags(rs)) == [
            tag("web", 1),
            tag("web", 2),
        ]


def test_release_images_are_recognised_by_app_and_tag():
    assert is_release_image("web", "hangar/web:deployment-0123456789ab")
    assert not is_release_image("web", "hangar/web-2:deployment-0123456789ab")
    assert not is_release_image("web", "hangar/web:latest")
    assert not is_release_image("busybox", BASE)
    assert is_release_image("web", release_image("web", "0123456789ab"))


# -- build layers -------------------------------------------------------------


# What the engine says each image of those logs was built on.
FAILED_BUILD_PARENTS = {"3e18a7030bcd": "b6736a71db0a", "b4a591be7c24": "3e18a7030bcd"}
MULTI_STAGE_PARENTS = {
    "e443f5593ccf": "b6736a71db0a",
    "7713ded3bda7": "e443f5593ccf",
    "47a4e91ca4ba": "7713ded3bda7",
}


def parents(chain: dict[str, str]):
    return lambda image: full(chain[image]) if image in chain else None


def test_a_failed_build_log_names_the_layers_it_made_but_not_its_base():
    layers = produced_layers(FAILED_BUILD_LOG.splitlines(), parents(FAILED_BUILD_PARENTS))
    assert layers == {"3e18a7030bcd", "b4a591be7c24"}


def test_a_multi_stage_build_log_names_every_stage_and_skips_from_lines():
    layers = produced_layers(MULTI_STAGE_LOG.splitlines(), parents(MULTI_STAGE_PARENTS))
    assert layers == {"e443f5593ccf", "7713ded3bda7", "47a4e91ca4ba"}


def test_an_id_a_run_step_prints_is_not_claimed_unless_the_engine_built_it_there():
    victim = "0badc0ffee00"  # another build's dangling layer, on the same base image
    chain = FAILED_BUILD_PARENTS | {victim: "b6736a71db0a"}
    forged = FAILED_BUILD_LOG.replace(
        " ---> Running in 97175713ae0d", f" ---> Running in 97175713ae0d\n ---> {victim}"
    )
    layers = produced_layers(forged.splitlines(), parents(chain))
    assert layers == {"3e18a7030bcd", "b4a591be7c24"}


def test_leftovers_are_the_dangling_layers_this_apps_builds_made():
    builds = [
        BuildRecord("web", True, frozenset({"aaaaaaaaaaaa", "bbbbbbbbbbbb"})),
        BuildRecord("web", False, frozenset({"cccccccccccc"})),  # the deploy now finishing
        BuildRecord("api", True, frozenset({"dddddddddddd"})),
    ]
    dangling = [full("aaaaaaaaaaaa"), full("cccccccccccc"), full("dddddddddddd"), full("e" * 12)]
    assert leftover_layers("web", builds, {"web", "api"}, dangling) == [
        full("aaaaaaaaaaaa"),
        full("cccccccccccc"),
    ]


def test_a_layer_another_live_app_or_a_running_build_announced_is_left_alone():
    shared = "aaaaaaaaaaaa"
    builds = [
        BuildRecord("web", True, frozenset({shared, "bbbbbbbbbbbb", "cccccccccccc"})),
        BuildRecord("api", True, frozenset({shared})),
        BuildRecord("gone", False, frozenset({"bbbbbbbbbbbb"})),  # still building
    ]
    dangling = [full(shared), full("bbbbbbbbbbbb"), full("cccccccccccc")]
    assert leftover_layers("web", builds, {"web", "api"}, dangling) == [full("cccccccccccc")]


def test_finished_builds_of_destroyed_apps_are_leftovers_too():
    builds = [BuildRecord("gone", True, frozenset({"aaaaaaaaaaaa"}))]
    assert leftover_layers("web", builds, {"web"}, [full("aaaaaaaaaaaa")]) == [full("aaaaaaaaaaaa")]


def test_a_build_record_reads_an_open_event_log_without_waiting():
    events = EventLog()
    for line in FAILED_BUILD_LOG.splitlines():
        events.emit("build", line)
    events.emit("phase", " ---> ffffffffffff")  # not a build line
    record = build_record(_Deployment("web", events), parents(FAILED_BUILD_PARENTS))
    assert record == BuildRecord("web", False, frozenset({"3e18a7030bcd", "b4a591be7c24"}))


def full(short: str) -> str:
    return "sha256:" + short + "0" * (64 - len(short))


@dataclass
class _Deployment:
    app: str
    events: EventLog


# -- after each deploy, on fakes ----------------------------------------------


@dataclass
class LayeringBuilder(FakeBuilder):
    """Each build also leaves one dangling layer behind and says so in its log."""

    made: int = 0

    def build(self, context_dir: Path, tag: str, on_line, dockerfile="Dockerfile", args=None):
        self.made += 1
        layer = f"{self.made:012x}"
        on_line("Step 1/2 : FROM hangar/busybox:1")
        on_line(" ---> b6736a71db0a")
        on_line("Step 2/2 : RUN make")
        on_line(f" ---> {layer}")
        if self.runtime is not None:
            self.runtime.images.add(full(layer))
            self.runtime.image_parents[layer] = full("b6736a71db0a")
        return super().build(context_dir, tag, on_line)


def _setup(platform, keep: int, name: str = "web") -> None:
    platform.settings.keep_images = keep
    with platform.db.session() as session:
        signup(session, "dev@example.com", "secret-password")
        create_app(session, session.scalar(select(User)), name)
    platform.edge.sync(desired_routes(platform))


def deploy_now(deployer: Deployer, tmp_path: Path, app: str = "web"):
    context = tmp_path / "ctx"
    context.mkdir(exist_ok=True)
    request = DeployRequest(
        app=app, user_email="dev@example.com", config=http_config(app), context_dir=context
    )
    return deployer.run_sync(request)


def _release_images(platform) -> list[str]:
    with platform.db.session() as session:
        return list(session.scalars(select(Release.image).order_by(Release.version)))


def test_each_deploy_keeps_the_last_n_release_images(fake_platform, tmp_path):
    _setup(fake_platform, keep=2)
    fake_platform.runtime.images |= {BASE, "my-own-image:1"}
    deployer = Deployer(fake_platform)
    for _ in range(4):
        assert deploy_now(deployer, tmp_path).status == "complete"
    images = _release_images(fake_platform)
    assert fake_platform.runtime.images == {BASE, "my-own-image:1", *images[-2:]}


def test_the_prune_is_reported_in_the_deploy_events(fake_platform, tmp_path):
    _setup(fake_platform, keep=1)
    deployer = Deployer(fake_platform)
    deploy_now(deployer, tmp_path)
    deployment = deploy_now(deployer, tmp_path)
    events = [e for e in deployment.events.follow() if e is not None]
    assert [e.type for e in events][-2:] == ["prune", "done"]
    assert events[-2].images == [_release_images(fake_platform)[0]]


def test_dangling_layers_of_the_apps_builds_are_freed_and_others_kept(fake_platform, tmp_path):
    runtime = fake_platform.runtime
    fake_platform.builder = LayeringBuilder(runtime=runtime)
    _setup(fake_platform, keep=5)
    foreign = full("f" * 12)
    runtime.images.add(foreign)
    deployer = Deployer(fake_platform)
    for _ in range(2):
        deploy_now(deployer, tmp_path)
    assert runtime.dangling_images() == [foreign]


def test_a_failing_prune_never_fails_the_deploy(fake_platform, tmp_path, caplog):
    _setup(fake_platform, keep=1)

    def broken(repository: str) -> set[str]:
        raise RuntimeFailure("the engine hung up", hint="")

    fake_platform.runtime.image_tags = broken
    deployer = Deployer(fake_platform)
    with caplog.at_level(logging.WARNING, logger="hangar.control.images"):
        statuses = [deploy_now(deployer, tmp_path).status for _ in range(2)]
    assert statuses == ["complete", "complete"]
    assert "pruning the images of web failed" in caplog.text


def test_an_image_another_app_was_deployed_with_is_kept(fake_platform, tmp_path):
    _setup(fake_platform, keep=1)
    with fake_platform.db.session() as session:
        create_app(session, session.scalar(select(User)), "other")
    fake_platform.edge.sync(desired_routes(fake_platform))
    deployer = Deployer(fake_platform)
    deploy_now(deployer, tmp_path)
    first = _release_images(fake_platform)[0]
    with fake_platform.db.session() as session:  # a release from before `--image` was limited
        other = session.scalar(select(App).where(App.name == "other"))
        session.add(Release(app_id=other.id, version=1, status="complete", image=first, config={}))
    for _ in range(2):
        deploy_now(deployer, tmp_path)
    assert first in fake_platform.runtime.images
    assert len(fake_platform.runtime.images) == 2


def test_destroy_removes_the_apps_builds_but_not_an_image_deployed_with_image(
    fake_platform, tmp_path
):
    _setup(fake_platform, keep=5)
    fake_platform.runtime.images |= {BASE}
    deployer = Deployer(fake_platform)
    deploy_now(deployer, tmp_path)
    request = DeployRequest(
        app="web", user_email="dev@example.com", config=http_config("web"), image=BASE
    )
    assert deployer.run_sync(request).status == "complete"
    with fake_platform.db.session() as session:
        user = session.scalar(select(User))
        session.expunge(user)
    destroy_app(fake_platform, user, "web")
    assert fake_platform.runtime.images == {BASE}


def test_only_another_apps_release_tags_count_as_another_apps():
    mine = "hangar/web:deployment-d2"
    assert is_another_apps_release(mine, "hangar/api:deployment-d1")
    assert is_another_apps_release(mine, "docker.io/hangar/API:deployment-d1")
    assert is_another_apps_release("hangar-test-x:1", "hangar/api:deployment-d1")
    assert not is_another_apps_release(mine, "hangar/web:deployment-d1")
    assert not is_another_apps_release(mine, "hangar/busybox:1")  # even if api's build is it


def test_an_image_is_named_by_its_tags_or_digests_never_by_an_id():
    tags, digests = ["python:3", "hangar/busybox:1", "tools:latest"], ["tools@sha256:ab12"]
    for ref in ("python:3", "docker.io/library/python:3", "hangar/busybox:1", "tools"):
        assert is_named_by(ref, tags, digests), ref
    assert is_named_by("tools@sha256:ab12", tags, digests)
    assert is_named_by("tools:2.1@sha256:ab12", tags, digests)  # tag and digest: the digest
    assert not is_named_by("tools:latest@sha256:ffff", tags, digests)
    for ref in ("a1b2c3", "sha256:a1b2c3", "python", "hangar/busybox"):
        assert not is_named_by(ref, tags, digests), ref
