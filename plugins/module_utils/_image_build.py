# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Building images with BuildKit (through the docker CLI, ``_platforms.buildkit``) or, when asked for, the
engine's classic builder (through the Docker SDK's low-level API).

The pure parts (label computation, the changed rule, the check mode prediction) are plain
functions, tested without Docker; reading the build output is ``_domain.build_log`` (classic) and
``_domain.buildkit_log`` (BuildKit), and what an image holds (reuse_unchanged's content key, the
declared build arguments) ``_domain.image_content``. The engine's image store (inspect, tag, the
images of a content key) is read through the SDK for both builders. ``build_image`` raises
ImageBuildError; ``run_module`` is the edge that turns errors into fail_json.
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
from ansible_collections.outerloop.docker.plugins.module_utils._domain.buildkit_log import (
    BuildKitLog,
    buildkit_failure_message,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.image_content import (
    content_key,
    declared_build_args,
    pick_reusable,
    split_build_args,
)
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.buildkit import (
    BuildKitCli,
    BuildKitError,
    build_host_name,
    parse_secrets,
    secret_args,
    secret_masks,
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
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.secrets import sanitize

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


class ClassicBuilder:
    """The engine's classic builder, through the Docker SDK (builder: classic)."""

    name = "classic"
    build_cli = None

    def __init__(self, client):
        self.client = client

    def build(self, request: BuildRequest, what: str, labels: dict) -> tuple:
        """The build of ``request`` with ``labels``; ``(image_id, log)``."""
        log = BuildLog()
        image_id = _run_build(
            self.client,
            what,
            log,
            request.build_timeout,
            path=request.path,
            dockerfile=request.dockerfile,
            buildargs=request.build_args or None,
            labels=labels or None,
            target=request.target,
            pull=request.pull,
            nocache=request.nocache,
        )
        return image_id, log

    def relabel(self, request: BuildRequest, what: str, built_id: str, labels: dict, log) -> str:
        """An image of ``built_id``'s content with ``labels`` added: a one-line build FROM it."""
        return _run_build(
            self.client,
            what,
            log,
            request.build_timeout,
            fileobj=io.BytesIO(f"FROM {built_id}\n".encode()),
            labels=labels,
        )


class BuildKitBuilder:
    """BuildKit, through the docker CLI (builder: auto or buildkit); ``secrets`` are the ``--secret`` arguments."""

    name = "buildkit"

    def __init__(self, kit: BuildKitCli, secrets=None, masks=None):
        self.kit = kit
        self.build_cli = kit.build_cli
        self.secrets = list(secrets or [])
        self.masks = list(masks or [])

    def build(self, request: BuildRequest, what: str, labels: dict) -> tuple:
        """The build of ``request`` with ``labels``; ``(image_id, log)``."""
        run = self.kit.build(
            timeout=request.build_timeout,
            context=request.path,
            dockerfile=request.dockerfile_path,
            labels=labels,
            build_args=request.build_args,
            target=request.target,
            pull=request.pull,
            nocache=request.nocache,
            secrets=self.secrets,
        )
        log = BuildKitLog.parse(sanitize(run.output, self.masks))
        if run.timed_out:
            raise ImageBuildError(
                f"{what} timed out after {request.build_timeout} s at {log.current_step or 'the start'}; raise "
                "build_timeout if the build needs longer",
                step=log.current_step,
                log_tail=log.tail(),
            )
        if run.rc != 0:
            raise ImageBuildError(buildkit_failure_message(what, log), step=log.current_step, log_tail=log.tail())
        if not run.image_id:
            raise ImageBuildError(f"{what}: {self.build_cli} wrote no image ID", log_tail=log.tail())
        return run.image_id, log


def _same_content(before: dict, after: dict) -> bool:
    layers = [((info or {}).get("RootFS") or {}).get("Layers") for info in (before, after)]
    return bool(layers[0]) and layers[0] == layers[1]


def _reuse_or_label(client, builder, request: BuildRequest, built_id: str, *, what: str, log) -> tuple:
    """reuse_unchanged: an earlier image with the content key of ``built_id``, or a new labelled one of that content.

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
    labels = {**request.commit_labels, LABEL_CONTENT_KEY: key}
    # Whichever builder built it, the labels go on with the engine's own one-line build FROM the built image: it
    # adds no layer. (Building the Dockerfile again with BuildKit, from its cache, missed that cache when several
    # services of one commit built at once on a fresh build host, and then made other layers.)
    relabel_log = BuildLog() if builder.name != "classic" else log
    labelled = ClassicBuilder(client).relabel(
        request, f"{what}, adding the per-commit labels", built_id, labels, relabel_log
    )
    if not _same_content(info, _inspect(client, labelled)):
        raise ImageBuildError(
            f"{what}: the image with the per-commit labels has other layers than the one built ({built_id}), so its "
            "content key would be wrong; run the task again"
        )
    return labelled, {"content_key": key, "reused": False, "reused_from": None}


def build_image(
    client, request: BuildRequest, *, check_mode: bool = False, docker_host: str = "", builder=None, host: str = ""
) -> dict:
    """One build; ``builder`` is a BuildKitBuilder or ClassicBuilder (default: the classic builder of ``client``)."""
    builder = builder or ClassicBuilder(client)
    refs = [str(ref) for ref in request.refs]
    existing = {}
    for ref in refs:
        info = _inspect(client, ref)
        existing[ref] = (info["Id"], _image_labels(info)) if info else None
    result = {"tags": refs, "builder": builder.name, "build_cli": builder.build_cli}
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

    engine = f"{host} ({docker_host})" if host and docker_host else (host or docker_host)
    what = f"Building {request.refs[0].name} from {request.path} ({request.dockerfile}) on {engine}"
    image_id, log = builder.build(request, what, request.content_labels)
    if request.reuse_unchanged:
        image_id, reuse = _reuse_or_label(client, builder, request, image_id, what=what, log=log)
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


@dataclass
class Builders:
    """What every build of one task shares: the BuildKit CLI (None for the classic builder) and the secrets."""

    kit: BuildKitCli | None = None
    secrets: list = field(default_factory=list)
    masks: list = field(default_factory=list)
    host: str = ""

    def for_client(self, client):
        if self.kit is None:
            return ClassicBuilder(client)
        return BuildKitBuilder(self.kit, self.secrets, self.masks)


def _setup_builders(module) -> tuple:
    """The builder the task asked for and its secrets, checked: ``(kit or None, BuildSecret list)``."""
    params = module.params
    requested = params.get("builder") or "auto"
    host = build_host_name()
    secrets = parse_secrets(params.get("secrets"), host=host)
    if requested == "classic" and secrets:
        raise BuildKitError(
            f"secrets ({', '.join(secret.id for secret in secrets)}) need BuildKit, and builder is classic: the "
            "classic builder has no build secrets (a build argument would stay in the image's history). Set "
            "builder: auto or buildkit"
        )
    kit = None if requested == "classic" else BuildKitCli(module, requested)
    return kit, secrets, host


def _mask_result(result: dict, masks) -> dict:
    """The result with every secret masked in its texts (the build output may have printed one)."""
    if not masks:
        return result
    for key in ("msg", "step"):
        if isinstance(result.get(key), str):
            result[key] = sanitize(result[key], masks)
    if isinstance(result.get("log_tail"), list):
        result["log_tail"] = [sanitize(str(line), masks) for line in result["log_tail"]]
    return result


def _build_one(params: dict, *, check_mode: bool, builders: Builders | None = None) -> dict:
    """One build as the module runs it; a failure comes back as a result with failed and msg."""
    builders = builders or Builders()
    try:
        request = BuildRequest.from_params(params)
        with engine_session(params) as client:
            return _mask_result(
                build_image(
                    client,
                    request,
                    check_mode=check_mode,
                    docker_host=docker_host_of(params),
                    builder=builders.for_client(client),
                    host=builders.host,
                ),
                builders.masks,
            )
    except ImageBuildError as exc:
        return _mask_result({"failed": True, "msg": str(exc), **exc.details}, builders.masks)
    except (ImageRefError, EngineError, BuildKitError) as exc:
        return _mask_result({"failed": True, "msg": str(exc)}, builders.masks)


def _build_many(module, builders: Builders) -> None:
    """O(builds): every build at the same time (at most O(parallel)); one result per build, in order."""
    params = module.params
    items = [merged_build_params(params, build) for build in params["builds"]]
    if not items:
        module.fail_json(msg="builds is empty; give at least one build, or use path and name")
    try:
        results = run_each(
            lambda item: _build_one(item, check_mode=module.check_mode, builders=builders), items, params["parallel"]
        )
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
    top = {"builder": "classic" if builders.kit is None else "buildkit"}
    top["build_cli"] = None if builders.kit is None else builders.kit.build_cli
    if failed:
        module.fail_json(
            msg=f"{len(failed)} of {len(results)} builds failed: "
            + " ".join(f"[{result['name']}] {result['msg']}" for result in failed),
            changed=changed,
            results=results,
            **top,
        )
    module.exit_json(changed=changed, results=results, **top)


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
    try:
        kit, secrets, host = _setup_builders(module)
    except BuildKitError as exc:
        module.fail_json(msg=str(exc))
    with secret_args(secrets, getattr(module, "tmpdir", None)) as flags:
        builders = Builders(kit=kit, secrets=flags, masks=secret_masks(secrets), host=host)
        if params.get("builds") is not None:
            _build_many(module, builders)
            return
        result = _build_one(params, check_mode=module.check_mode, builders=builders)
    if result.get("failed"):
        result.pop("failed")
        result.pop("warnings", None)
        module.fail_json(**result)
    for warning in result.pop("warnings", []):
        module.warn(warning)
    module.exit_json(**result)
