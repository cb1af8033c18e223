# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Building one image with the engine's classic builder, through the Docker SDK's low-level API.

The pure parts (label computation, the changed rule, the check mode prediction) are plain
functions, tested without Docker; reading the build stream is ``_domain.build_log`` and what an
image holds (reuse_unchanged's content key, the declared build arguments) ``_domain.image_content``.
``build_image`` talks to the engine and raises ImageBuildError; ``run_module`` is the edge that
turns errors into fail_json.
"""

from __future__ import annotations

import io
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime

from ansible_collections.outerloop.docker.plugins.module_utils._domain.build_log import (
    BuildLog,
    failure_message,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.image_content import (
    content_key,
    declared_build_args,
    pick_reusable,
    split_build_args,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import (
    TRANSPORT_ERRORS,
    EngineError,
    docker_host_of,
    engine_session,
    require_sdk,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import (
    ImageRef,
    ImageRefError,
    parse_image_ref,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.labels import (
    BUILD_NUMBER as LABEL_BUILD_NUMBER,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.labels import (
    CONTENT_KEY as LABEL_CONTENT_KEY,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.labels import OCI_CREATED as LABEL_CREATED
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.labels import OCI_REVISION as LABEL_REVISION
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.labels import OCI_SOURCE as LABEL_SOURCE
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.labels import OCI_VERSION as LABEL_VERSION
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.parallel import merged_params, run_each

try:  # noqa: SIM105 - the missing SDK is reported by require_sdk
    import docker.errors
except ImportError:
    pass

_REVISION = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)  # fmt: skip


# The labels that change with every commit even when the image's content does not; with
# reuse_unchanged they are added on top of the built image instead of being part of the build.
PER_COMMIT_LABELS = (LABEL_REVISION, LABEL_VERSION, LABEL_CREATED, LABEL_BUILD_NUMBER)


class ImageBuildError(Exception):
    """A build that cannot start or that failed; carries the failing step and the output tail."""

    def __init__(self, msg: str, *, step: str | None = None, log_tail=None):
        super().__init__(msg)
        self.details = {}
        if step is not None:
            self.details["step"] = step
        if log_tail is not None:
            self.details["log_tail"] = list(log_tail)


# ---------------------------------------------------------------------------------------------
# Inputs


def _as_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def validate_created(created: str) -> str:
    """An RFC 3339 date-time with an explicit offset, as `git log --format=%cI` prints it."""
    match = _RFC3339.match(created)
    if match:
        try:
            datetime.fromisoformat(created.replace("z", "Z").replace("t", "T"))
            return created
        except ValueError:
            pass
    raise ImageBuildError(
        f"created {created!r} is not an RFC 3339 date-time such as 2026-11-26T13:00:00Z or "
        "2026-11-26T14:00:00+01:00; pass the commit time, e.g. from `git log -1 --format=%cI`"
    )


def compute_labels(
    extra=None,
    *,
    revision: str | None = None,
    source: str | None = None,
    version: str | None = None,
    created: str | None = None,
    build_number: str | None = None,
) -> dict:
    """The labels the build sets: ``extra`` plus the OCI labels of the options that are set.

    An option that is not set adds no label (``created`` never defaults to the current time: the
    same commit must give the same labels, hence the same image). A key of ``extra`` that one of
    the options also sets must have the same value.
    """
    labels = {str(key): _as_text(value) for key, value in (extra or {}).items()}
    if revision is not None:
        revision = str(revision)
        if not _REVISION.match(revision):
            raise ImageBuildError(
                f"revision {revision!r} is not a full commit SHA (40 or 64 lowercase hex digits); "
                "pass the output of `git rev-parse HEAD`, not a short or symbolic ref"
            )
    if created is not None:
        validate_created(str(created))
    options = {
        LABEL_REVISION: ("revision", revision),
        LABEL_SOURCE: ("source", source),
        LABEL_VERSION: ("version", version),
        LABEL_CREATED: ("created", created),
        LABEL_BUILD_NUMBER: ("build_number", build_number),
    }
    for key, (option, value) in options.items():
        if value is None:
            continue
        text = _as_text(value)
        if not text:
            raise ImageBuildError(f"{option} is empty; leave it out or give it a value")
        if key in labels and labels[key] != text:
            raise ImageBuildError(
                f"labels sets {key}={labels[key]!r} but {option} sets it to {text!r}; set it in one place"
            )
        labels[key] = text
    return labels


def build_refs(name: str, tags) -> list[ImageRef]:
    """NAME:TAG for every tag; NAME is a repository without a tag or digest."""
    ref = parse_image_ref(name)
    if ref.tag or ref.digest:
        raise ImageRefError(
            f"name {name!r} must be a repository without a tag or digest (for example {ref.name!r}); put the tags "
            "in tags"
        )
    if not tags:
        raise ImageRefError("tags is empty; give at least one tag, e.g. the build number and the short commit")
    refs = []
    for tag in tags:
        tagged = ref.with_tag(_as_text(tag))
        if tagged not in refs:
            refs.append(tagged)
    return refs


def check_context(path: str, dockerfile: str) -> str:
    """The Dockerfile's path on the build host; fails before building when something is missing."""
    if not os.path.isdir(path):
        what = "is not a directory" if os.path.exists(path) else "does not exist"
        raise ImageBuildError(f"build context {path} {what} on the build host; check path")
    if os.path.isabs(dockerfile):
        raise ImageBuildError(f"dockerfile {dockerfile!r} must be relative to path ({path})")
    full = os.path.normpath(os.path.join(path, dockerfile))
    if not os.path.isfile(full):
        raise ImageBuildError(
            f"Dockerfile {full} does not exist (dockerfile={dockerfile!r} relative to path={path}); "
            "check dockerfile and that the tree was checked out"
        )
    return full


@dataclass
class BuildRequest:
    path: str
    dockerfile: str
    refs: list
    labels: dict
    build_args: dict
    target: str | None = None
    pull: bool = False
    nocache: bool = False
    build_timeout: int = 3600
    dockerfile_path: str = ""
    reuse_unchanged: bool = False
    ignored_build_args: list = field(default_factory=list)

    @property
    def content_labels(self) -> dict:
        """The labels of the build itself: all of them, or with reuse_unchanged all but the per-commit ones."""
        if not self.reuse_unchanged:
            return self.labels
        return {key: value for key, value in self.labels.items() if key not in PER_COMMIT_LABELS}

    @property
    def commit_labels(self) -> dict:
        """With reuse_unchanged, the per-commit labels added on top of a new image."""
        return {key: value for key, value in self.labels.items() if key in PER_COMMIT_LABELS}

    @classmethod
    def from_params(cls, params: dict) -> BuildRequest:
        if params["build_timeout"] < 1:
            raise ImageBuildError(f"build_timeout must be at least 1 second, not {params['build_timeout']}")
        refs = build_refs(params["name"], params["tags"])
        labels = compute_labels(
            params.get("labels"),
            revision=params.get("revision"),
            source=params.get("source"),
            version=params.get("version"),
            created=params.get("created"),
            build_number=params.get("build_number"),
        )
        path = os.path.abspath(params["path"])
        dockerfile = params["dockerfile"]
        full = check_context(path, dockerfile)
        build_args = {str(k): _as_text(v) for k, v in (params.get("build_args") or {}).items()}
        ignored = []
        if build_args:
            try:
                with open(full, encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
            except OSError as exc:
                raise ImageBuildError(f"cannot read the Dockerfile {full}: {exc.strerror}; check its mode") from None
            build_args, ignored = split_build_args(build_args, declared_build_args(text))
        return cls(
            path=path,
            dockerfile=dockerfile,
            refs=refs,
            labels=labels,
            build_args=build_args,
            ignored_build_args=ignored,
            reuse_unchanged=bool(params.get("reuse_unchanged")),
            target=params.get("target") or None,
            pull=params["pull"],
            nocache=params["nocache"],
            build_timeout=params["build_timeout"],
            dockerfile_path=full,
        )


# ---------------------------------------------------------------------------------------------
# changed


def build_changed(before: dict, image_id: str) -> bool:
    """False only when every tag already named ``image_id`` before the build.

    ``before`` maps each NAME:TAG to the image ID it had before (None when it did not exist). The
    first tag is among them, so an unchanged first tag is required too.
    """
    return not before or any(old != image_id for old in before.values())


def predict_changed(existing: dict, labels: dict, *, reuse: bool = False) -> bool:
    """Check mode: would a build change anything?

    ``existing`` maps each NAME:TAG to ``(image_id, labels)`` of the image it names now, or None.
    No change is predicted only when the task sets a revision, every tag exists, all tags name one
    image, and that image carries the same revision and build number labels as this task would set.
    With ``reuse``, an image that carries a content key counts whatever its revision and build
    number: it may be one reused from the build of an earlier commit.
    """
    if not labels.get(LABEL_REVISION) or not existing:
        return True
    ids = set()
    for found in existing.values():
        if found is None:
            return True
        image_id, have = found
        have = have or {}
        ids.add(image_id)
        if reuse and have.get(LABEL_CONTENT_KEY):
            continue
        for key in (LABEL_REVISION, LABEL_BUILD_NUMBER):
            if have.get(key) != labels.get(key):
                return True
    return len(ids) != 1


# ---------------------------------------------------------------------------------------------
# Talking to the engine


def _inspect(client, reference: str):
    try:
        return client.inspect_image(reference)
    except docker.errors.ImageNotFound:
        return None
    except docker.errors.NotFound:
        return None


def _image_labels(info) -> dict:
    return dict(((info or {}).get("Config") or {}).get("Labels") or {})


def _run_build(client, what: str, log: BuildLog, build_timeout: int, **build_args) -> str:
    """One build through the engine, its output fed to ``log``; returns the image ID or raises."""
    started = time.monotonic()
    timed_out = False
    try:
        stream = client.build(rm=True, forcerm=True, decode=True, timeout=build_timeout, **build_args)
        for chunk in stream:
            log.feed(chunk)
            if log.error:
                break
            if time.monotonic() - started > build_timeout:
                timed_out = True
                break
    except docker.errors.APIError as exc:
        log.finish()
        raise ImageBuildError(
            f"{what} was refused by the engine: {exc.explanation or exc}",
            step=log.current_step,
            log_tail=log.tail(),
        ) from None
    except (*TRANSPORT_ERRORS, docker.errors.DockerException) as exc:
        log.finish()
        if "timed out" not in str(exc).lower() and time.monotonic() - started < build_timeout:
            raise ImageBuildError(
                f"{what}: the connection to the engine failed: {exc}", step=log.current_step, log_tail=log.tail()
            ) from None
        timed_out = True
    log.finish()
    if timed_out:
        client.close()  # dropping the connection makes the engine cancel the build
        raise ImageBuildError(
            f"{what} timed out after {build_timeout} s at {log.current_step or 'the start'}; raise "
            "build_timeout if the build needs longer (it also bounds a step that prints nothing)",
            step=log.current_step,
            log_tail=log.tail(),
        )
    if log.error:
        raise ImageBuildError(failure_message(what, log), step=log.current_step, log_tail=log.tail())

    image_id = log.image_id
    if not image_id and log.short_id:
        info = _inspect(client, log.short_id)
        image_id = info["Id"] if info else None
    if not image_id:
        raise ImageBuildError(f"{what}: the engine reported no image ID", log_tail=log.tail())
    return image_id


def _reuse_or_label(client, request: BuildRequest, built_id: str, what: str, log: BuildLog) -> tuple:
    """reuse_unchanged: an earlier image with the content key of ``built_id``, or a new labelled one on top.

    Returns the image to tag and the result keys ``content_key``, ``reused`` and ``reused_from``.
    """
    info = _inspect(client, built_id)
    if info is None:
        raise ImageBuildError(f"{what}: the built image {built_id} vanished before its content key was read")
    try:
        key = content_key(info)
    except ValueError as exc:
        raise ImageBuildError(f"{what}: {exc}") from None
    candidates = client.images(filters={"label": f"{LABEL_CONTENT_KEY}={key}"})
    wanted = [str(ref) for ref in request.refs]
    found = pick_reusable(candidates, request.refs[0].name, wanted)
    if found:
        earlier = _image_labels(_inspect(client, found["id"]))
        revision = request.labels.get(LABEL_REVISION)
        reused = not revision or earlier.get(LABEL_REVISION) != revision
        reused_from = {
            "image_id": found["id"],
            "tags": [tag for tag in found["tags"] if tag not in wanted] or found["tags"],
            "revision": earlier.get(LABEL_REVISION),
        }
        return found["id"], {"content_key": key, "reused": reused, "reused_from": reused_from if reused else None}
    labelled = _run_build(
        client,
        f"{what}, adding the per-commit labels",
        log,
        request.build_timeout,
        fileobj=io.BytesIO(f"FROM {built_id}\n".encode()),
        labels={**request.commit_labels, LABEL_CONTENT_KEY: key},
    )
    return labelled, {"content_key": key, "reused": False, "reused_from": None}


def build_image(client, request: BuildRequest, *, check_mode: bool = False, docker_host: str = "") -> dict:
    refs = [str(ref) for ref in request.refs]
    existing = {}
    for ref in refs:
        info = _inspect(client, ref)
        existing[ref] = (info["Id"], _image_labels(info)) if info else None
    result = {"tags": refs}
    if request.ignored_build_args:
        result["ignored_build_args"] = request.ignored_build_args

    if check_mode:
        changed = predict_changed(existing, request.labels, reuse=request.reuse_unchanged)
        first = existing[refs[0]]
        result.update(
            changed=changed,
            labels=request.labels,
            image_id=None if changed or first is None else first[0],
            log_tail=[],
        )
        return result

    what = f"Building {request.refs[0].name} from {request.path} ({request.dockerfile}) on {docker_host}"
    log = BuildLog()
    image_id = _run_build(
        client,
        what,
        log,
        request.build_timeout,
        path=request.path,
        dockerfile=request.dockerfile,
        buildargs=request.build_args or None,
        labels=request.content_labels or None,
        target=request.target,
        pull=request.pull,
        nocache=request.nocache,
    )
    if request.reuse_unchanged:
        image_id, reuse = _reuse_or_label(client, request, image_id, what, log)
        result.update(reuse)

    for ref, tagged in zip(refs, request.refs, strict=True):
        if existing[ref] is None or existing[ref][0] != image_id:
            client.tag(image_id, tagged.name, tagged.tag, force=True)

    info = _inspect(client, image_id)
    result.update(
        changed=build_changed({ref: found[0] if found else None for ref, found in existing.items()}, image_id),
        image_id=image_id,
        labels=_image_labels(info),
        log_tail=log.tail(),
        cached=log.cached,
        warnings=log.warnings,
    )
    return result


def _build_one(params: dict, *, check_mode: bool) -> dict:
    """One build as the module runs it; a failure comes back as a result with failed and msg."""
    try:
        request = BuildRequest.from_params(params)
        with engine_session(params) as client:
            return build_image(client, request, check_mode=check_mode, docker_host=docker_host_of(params))
    except ImageBuildError as exc:
        return {"failed": True, "msg": str(exc), **exc.details}
    except (ImageRefError, EngineError) as exc:
        return {"failed": True, "msg": str(exc)}


def _build_many(module) -> None:
    """O(builds): every build at the same time (at most O(parallel)); one result per build, in order."""
    params = module.params
    items = [merged_build_params(params, build) for build in params["builds"]]
    if not items:
        module.fail_json(msg="builds is empty; give at least one build, or use path and name")
    try:
        results = run_each(lambda item: _build_one(item, check_mode=module.check_mode), items, params["parallel"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    for item, result in zip(items, results, strict=True):
        result.update(name=item["name"], path=os.path.abspath(item["path"]), dockerfile=item["dockerfile"])
        result.setdefault("changed", False)
        result.setdefault("failed", False)
        for warning in result.pop("warnings", []):
            module.warn(f"{item['name']}: {warning}")
    changed = any(result["changed"] for result in results)
    failed = [result for result in results if result["failed"]]
    if failed:
        module.fail_json(
            msg=f"{len(failed)} of {len(results)} builds failed: "
            + " ".join(f"[{result['name']}] {result['msg']}" for result in failed),
            changed=changed,
            results=results,
        )
    module.exit_json(changed=changed, results=results)


def merged_build_params(params: dict, build: dict) -> dict:
    """The parameters of one entry of O(builds): its own options over the shared ones; dicts are merged."""
    item = merged_params(params, build, "builds")
    for key in ("build_args", "labels"):
        if params.get(key) and build.get(key):
            item[key] = {**params[key], **build[key]}
    return item


def run_module(module) -> None:
    """Run outerloop.docker.image_build with the module's parameters; exits the module."""
    require_sdk(module)
    params = module.params
    if params.get("builds") is not None:
        _build_many(module)
        return
    try:
        request = BuildRequest.from_params(params)
        with engine_session(params) as client:
            result = build_image(client, request, check_mode=module.check_mode, docker_host=docker_host_of(params))
    except ImageBuildError as exc:
        module.fail_json(msg=str(exc), **exc.details)
    except (ImageRefError, EngineError) as exc:
        module.fail_json(msg=str(exc))
    for warning in result.pop("warnings", []):
        module.warn(warning)
    module.exit_json(**result)
