# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Publishing a tested image under its release tags: the "bless" step.

Nothing changes until every check passed, in this order: the inputs (repository, tags), the local
image (its ID), the test records of that ID (``_domain.test_records.missing_passes``), and the registry's
current manifest for every tag (``_domain.registry_client``). Then the image is tagged locally and pushed,
and every tag is read back from the registry.

The decision rule, per tag (``classify``):

- ``absent``: the registry has no such tag: push it;
- ``same``: the registry's digest for the tag is one the engine recorded for this image in this
  repository (``RepoDigests``, set by an earlier push or pull), or the tag's manifest has this image's
  ID as its config digest (the same image, pushed from elsewhere): leave it;
- ``other``: anything else, another image: refuse, unless ``force`` or the tag is one of the
  ``floating`` tags (such as ``latest``) that are meant to move; then push it.

All tags must end on one manifest digest: after the first push, a ``same`` tag whose digest differs
from the one the push reported (same image, other manifest) is pushed too. When every tag is
``same`` with one digest, nothing is pushed and nothing changes.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field

from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_auth import RegistryAuth, login_hint
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_client import (
    REGISTRY_ARG_SPEC,
    registry_client,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_error import RegistryError
from ansible_collections.outerloop.docker.plugins.module_utils._domain.test_records import (
    DEFAULT_RECORD_DIR,
    RecordError,
    missing_passes,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.docker_config import normalize_registry
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import (
    EngineError,
    docker_host_of,
    engine_client,
    require_sdk,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import (
    ImageRef,
    ImageRefError,
    parse_image_ref,
    same_repository,
    validate_tag,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.parallel import (
    PARALLEL_ARG_SPEC,
    merged_params,
    run_each,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.secrets import sanitize

try:
    import docker.errors
    import requests.exceptions
except ImportError:  # require_sdk reports it
    pass

ABSENT = "absent"
SAME = "same"
OTHER = "other"
_PUSHED_DIGEST = re.compile(r"digest: (sha256:[a-f0-9]{64})")

PUBLISH_ARG_SPEC = dict(
    REGISTRY_ARG_SPEC,
    **PARALLEL_ARG_SPEC,
    image={"type": "str"},
    repository={"type": "str"},
    images={
        "type": "list",
        "elements": "dict",
        "options": {
            "image": {"type": "str", "required": True},
            "repository": {"type": "str", "required": True},
            "required_test_suites": {"type": "list", "elements": "str"},
        },
    },
    tags={"type": "list", "elements": "str", "required": True},
    floating_tags={"type": "list", "elements": "str", "default": []},
    required_test_suites={"type": "list", "elements": "str", "default": ["unit", "functional"]},
    record_dir={"type": "path", "default": DEFAULT_RECORD_DIR},
    force={"type": "bool", "default": False},
)


class PublishRefused(Exception):
    """A check failed before anything changed; the message names the image and the reason."""


class PushError(Exception):
    """The engine reported an error in the push stream; the message is the engine's text."""


# --- Pure decision logic ---------------------------------------------------------------------


@dataclass(frozen=True)
class TagState:
    """What the registry holds for one tag: its manifest digest (None: the tag does not exist) and,
    for a single-platform manifest, its config digest, which is the image ID."""

    tag: str
    digest: str | None = None
    config_digest: str | None = None


@dataclass
class PublishPlan:
    states: list  # TagState, in the order of the tags option
    kinds: dict  # tag -> ABSENT / SAME / OTHER
    push: list = field(default_factory=list)  # tags that must be pushed: absent ones, then allowed others

    @property
    def current(self) -> dict:
        return {state.tag: state.digest for state in self.states}

    @property
    def up_to_date(self) -> bool:
        """Every tag holds this image, all under one manifest digest: nothing to push."""
        return not self.push and len(set(self.current.values())) == 1


def parse_repository(text: str) -> ImageRef:
    """REGISTRY/REPOSITORY, with the registry written out and no tag or digest."""
    try:
        ref = parse_image_ref(text)
    except ImageRefError as exc:
        raise PublishRefused(f"repository: {exc}") from None
    if ref.tag or ref.digest:
        raise PublishRefused(
            f"repository {text!r} carries a tag or digest; give REGISTRY/REPOSITORY only and the tags in tags"
        )
    if not ref.registry:
        raise PublishRefused(
            f"repository {text!r} names no registry; write it out, e.g. reg1:5000/{ref.repository} "
            f"(or docker.io/{ref.repository} for the Docker Hub)"
        )
    return ref


def check_tags(tags, floating_tags) -> list:
    """The tags, validated, without duplicates, in order; floating tags must be among them."""
    if not tags:
        raise PublishRefused("tags is empty; give at least one release tag, e.g. [1.4.0, 1.4, latest]")
    checked = []
    for tag in tags:
        try:
            validate_tag(tag)
        except ImageRefError as exc:
            raise PublishRefused(f"tags: {exc}") from None
        if tag not in checked:
            checked.append(tag)
    stray = [tag for tag in floating_tags or [] if tag not in checked]
    if stray:
        raise PublishRefused(f"floating_tags {stray} are not in tags {checked}; list each floating tag in tags too")
    return checked


def own_digests(repo_digests, repository: ImageRef) -> set:
    """The manifest digests the engine recorded for the local image in ``repository``
    (its ``RepoDigests`` entries ``NAME@sha256:...`` whose NAME is that repository)."""
    digests = set()
    for entry in repo_digests or []:
        try:
            ref = parse_image_ref(entry)
        except ImageRefError:
            continue
        if ref.digest and same_repository(ref, repository):
            digests.add(ref.digest)
    return digests


def classify(state: TagState, image_id: str, own: set) -> str:
    if state.digest is None:
        return ABSENT
    if state.digest in own or (state.config_digest is not None and state.config_digest == image_id):
        return SAME
    return OTHER


def plan_publish(states, image_id: str, own: set, *, force=False, floating=(), image="", repository=""):
    """Decide which tags to push; raise PublishRefused for a tag that holds another image (unless
    ``force``, or the tag is floating)."""
    kinds = {state.tag: classify(state, image_id, own) for state in states}
    blocked = [s for s in states if kinds[s.tag] == OTHER and not force and s.tag not in floating]
    if blocked:
        if own:
            ours = f"this image's digest in {repository} is {', '.join(sorted(own))}"
        else:
            ours = f"this image has no RepoDigest in {repository}, and the tag's config digest is not its image ID"
        held = "; ".join(f"tag {s.tag} holds {s.digest}" for s in blocked)
        raise PublishRefused(
            f"refusing to publish {image} ({image_id}) to {repository}: {held}, another image ({ours}). A release tag "
            "is not moved silently: publish a new version, list tags that are meant to move in floating_tags, or set "
            "force: true to move them."
        )
    push = [s.tag for s in states if kinds[s.tag] == ABSENT] + [s.tag for s in states if kinds[s.tag] == OTHER]
    return PublishPlan(states=list(states), kinds=kinds, push=push)


def first_pushes(plan: PublishPlan, own: set) -> list:
    """The tags to push before the pushed digest is known; empty when the plan is up to date."""
    if plan.push or plan.up_to_date:
        return list(plan.push)
    # Every tag holds this image, but under several manifest digests: push one that does not hold
    # a digest the engine knows for the image, so the result is the digest the engine produces.
    for state in plan.states:
        if state.digest not in own:
            return [state.tag]
    return [plan.states[0].tag]


def also_push(plan: PublishPlan, digest: str, done) -> list:
    """After a push reported ``digest``: the remaining tags that hold another digest."""
    return [s.tag for s in plan.states if s.tag not in done and s.digest != digest]


def predict(plan: PublishPlan, own: set) -> tuple:
    """For check mode: (tags that would be pushed, tag -> digest after the run, None when unknown).

    The digest a push produces is known beforehand only when the engine recorded exactly one digest
    for this image in the repository; without it, a ``same`` tag is assumed to stay as it is.
    """
    if plan.up_to_date:
        return [], plan.current
    expected = next(iter(own)) if len(own) == 1 else None
    would = first_pushes(plan, own)
    if expected:
        would += also_push(plan, expected, would)
    after = {state.tag: (expected if state.tag in would else state.digest) for state in plan.states}
    return would, after


def parse_push_stream(lines) -> dict:
    """Digest and layer counts from the engine's push stream (decoded JSON lines); PushError on an
    ``error`` line, with the engine's text."""
    digest = None
    uploaded = set()
    existing = set()
    for line in lines:
        if not isinstance(line, dict):
            continue
        if line.get("error") or line.get("errorDetail"):
            detail = line.get("errorDetail") if isinstance(line.get("errorDetail"), dict) else {}
            raise PushError(str(line.get("error") or detail.get("message") or line))
        aux = line.get("aux") if isinstance(line.get("aux"), dict) else {}
        if aux.get("Digest"):
            digest = aux["Digest"]
        status = str(line.get("status") or "")
        if status == "Pushed" and line.get("id"):
            uploaded.add(line["id"])
        elif (status == "Layer already exists" or status.startswith("Mounted from")) and line.get("id"):
            existing.add(line["id"])
        elif digest is None:
            match = _PUSHED_DIGEST.search(status)
            if match:
                digest = match.group(1)
    if digest is None:
        raise PushError("the push stream ended without a manifest digest")
    return {"digest": digest, "uploaded": sorted(uploaded), "existing": sorted(existing)}


def push_auth_config(auth: RegistryAuth, registry: str) -> dict:
    """The X-Registry-Auth content for a push: the same credentials the lookups used.

    An empty dict pushes anonymously; it is given explicitly so that the SDK does not fall back to
    a config file of its own choosing.
    """
    creds = auth.credentials
    if creds is None:
        return {}
    config = {"serveraddress": normalize_registry(registry)}
    if creds.username:
        config["username"] = creds.username
    if creds.identity_token:
        config["identitytoken"] = creds.identity_token
    else:
        config["password"] = creds.password
    return config


def push_hint(engine_text: str, registry: str, auth: RegistryAuth) -> str:
    text = engine_text.lower()
    if any(word in text for word in ("unauthorized", "authentication required", "denied", "forbidden")):
        return (
            f"The push used {auth.describe()}. Log that user in with outerloop.docker.registry_login, or give "
            "username and password (of a user allowed to push)."
        )
    return login_hint(registry, engine_text)


# --- The engine ------------------------------------------------------------------------------


def inspect_local(client, image: str, docker_host: str):
    """(image ID, RepoDigests) of a local image; EngineError when it is not there."""
    try:
        attrs = client.inspect_image(image)
    except docker.errors.ImageNotFound:
        raise EngineError(
            f"image {image!r} does not exist on the Docker Engine at {docker_host} ({socket.gethostname()}); build it "
            "there first (outerloop.docker.image_build) and pass its ID or NAME:TAG"
        ) from None
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise EngineError(f"inspecting image {image!r} on the Docker Engine at {docker_host} failed: {exc}") from None
    return attrs["Id"], list(attrs.get("RepoDigests") or [])


def tag_and_push(client, image_id: str, name: str, tag: str, auth_config: dict) -> dict:
    """Tag the image as NAME:TAG and push it; the parsed push stream (see parse_push_stream)."""
    client.tag(image_id, name, tag)
    stream = client.push(name, tag=tag, stream=True, decode=True, auth_config=auth_config)
    return parse_push_stream(stream)


# --- The module run --------------------------------------------------------------------------


def _read_back(registry, repository: ImageRef, tags) -> dict:
    """tag -> TagState, as the registry holds it now."""
    states = {}
    for tag in tags:
        info = registry.lookup(repository.with_tag(tag), fetch_config=False)
        states[tag] = TagState(tag, info.digest if info.exists else None, info.config_digest if info.exists else None)
    return states


def publish(module, state: dict, *, records_only: bool = False) -> dict:
    """The checks, then (unless check mode) the pushes; the module result. Raises on refusal/failure.

    ``state`` collects what the failure message of the edge may use: image_id, repository, registry.
    With ``records_only`` it stops after the checks of the inputs, the image and its test records.
    """
    params = module.params
    repository = parse_repository(params["repository"])
    tags = check_tags(params["tags"], params["floating_tags"])
    suites = [suite for suite in params["required_test_suites"] if suite]
    if not suites:
        raise PublishRefused("required_test_suites is empty; image_publish only publishes tested images")
    name = repository.name
    image = params["image"]
    host = docker_host_of(params)

    state["repository"] = name
    client = engine_client(params)
    image_id, repo_digests = inspect_local(client, image, host)
    state["image_id"] = image_id
    result = {"changed": False, "repository": name, "image_id": image_id}

    problems = missing_passes(params["record_dir"], image_id, suites)
    if problems:
        raise PublishRefused(
            f"refusing to publish {image} ({image_id}): its tests are not recorded as passed in "
            f"{params['record_dir']} on {socket.gethostname()}: {'; '.join(problems)}. Run the suites against this "
            "image (outerloop.docker.image_test) and publish only what passed. Nothing was tagged or pushed."
        )
    if records_only:
        return result

    registry = registry_client(repository.registry_host, params, params["timeout"], image=f"{name}:{tags[0]}")
    state["registry"] = registry
    states = _read_back(registry, repository, tags)
    own = own_digests(repo_digests, repository)
    plan = plan_publish(
        [states[tag] for tag in tags],
        image_id,
        own,
        force=params["force"],
        floating=params["floating_tags"],
        image=image,
        repository=name,
    )
    before = plan.current

    if plan.up_to_date or module.check_mode:
        pushed, after = predict(plan, own)
        result.update(changed=bool(pushed), pushed_tags=pushed, layers_uploaded=0)
    else:
        auth_config = push_auth_config(registry.auth, repository.registry_host)
        pushed, digest, uploaded = [], None, 0
        queue = first_pushes(plan, own)
        while queue:
            tag = queue.pop(0)
            try:
                outcome = tag_and_push(client, image_id, name, tag, auth_config)
            except PushError as exc:
                done = f"Already pushed: {', '.join(pushed)}." if pushed else "Nothing was pushed."
                text = sanitize(str(exc), registry.secrets)
                raise EngineError(
                    f"pushing {name}:{tag} (image {image}, {image_id}) through the Docker Engine at {host} failed: "
                    f"{text}. {push_hint(text, repository.registry_host, registry.auth)} {done}"
                ) from None
            except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
                raise EngineError(
                    f"tagging or pushing {name}:{tag} on the Docker Engine at {host} failed: "
                    f"{sanitize(str(exc), registry.secrets)}"
                ) from None
            pushed.append(tag)
            uploaded += len(outcome["uploaded"])
            if digest is None:
                digest = outcome["digest"]
                queue += [tag for tag in also_push(plan, digest, pushed) if tag not in queue]
            elif outcome["digest"] != digest:
                raise EngineError(
                    f"the pushes of {name} reported two digests, {digest} and {outcome['digest']} (tag {tag}); "
                    "something else pushes to the same tags now. Run the task again."
                )
        result.update(changed=True, pushed_tags=pushed, layers_uploaded=uploaded)
        after = {tag: (digest if tag in pushed else before[tag]) for tag in tags}

    if result["changed"] and not module.check_mode:
        # Verify against the registry itself, not the engine's word.
        now = _read_back(registry, repository, tags)
        wrong = {tag: held.digest for tag, held in now.items() if held.digest != after[tag]}
        if wrong:
            raise RegistryError(
                f"after publishing, registry {repository.registry_host} holds {wrong} for {name}, not the digest "
                f"{after[tags[0]]} the push reported; something else writes these tags. Run the task again."
            )
    digests = {tag: value for tag, value in after.items() if value}
    result["digests"] = digests
    if len(digests) == len(tags) and len(set(digests.values())) == 1:
        result["digest"] = digests[tags[0]]
        result["pinned"] = f"{name}@{result['digest']}"
    if module._diff:
        result["diff"] = {
            "before": {tag: before[tag] or "(absent)" for tag in tags},
            "after": {tag: after[tag] or "(digest known after the push)" for tag in tags},
            "before_header": f"{name} in the registry",
            "after_header": f"{name} in the registry",
        }
    return result


class _Entry:
    """One entry of O(images) as publish() sees a module: its own parameters, the module's modes."""

    def __init__(self, module, params: dict):
        self.params = params
        self.check_mode = module.check_mode
        self._diff = module._diff


def _publish_one(entry: _Entry, *, records_only: bool = False) -> tuple:
    """(result, secrets to hide) of publishing one entry; a failure is a result with failed and msg."""
    state = {}
    try:
        result = publish(entry, state, records_only=records_only)
    except (PublishRefused, EngineError, RegistryError, RecordError) as exc:
        registry = state.pop("registry", None)
        secrets = [entry.params.get("password")] + (registry.secrets if registry is not None else [])
        return {"failed": True, "msg": sanitize(str(exc), secrets), **state}, secrets
    registry = state.get("registry")
    result["failed"] = False
    return result, (registry.secrets if registry is not None else [])


def _publish_many(module) -> None:
    """O(images): every check of every image first, then the images at the same time; results in order."""
    params = module.params
    entries = [_Entry(module, merged_params(params, image, "images")) for image in params["images"]]
    if not entries:
        module.fail_json(msg="images is empty; give at least one image, or use image and repository")
    refused = [_publish_one(entry, records_only=True)[0] for entry in entries]
    refused = [(entry, result) for entry, result in zip(entries, refused, strict=True) if result["failed"]]
    if refused:
        module.fail_json(
            msg=" ".join(f"[{entry.params['image']}] {result['msg']}" for entry, result in refused)
            + " Nothing was tagged or pushed for any of the images.",
            changed=False,
        )
    try:
        outcomes = run_each(_publish_one, entries, params["parallel"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    results = []
    for entry, (result, secrets) in zip(entries, outcomes, strict=True):
        module.no_log_values.update(secret for secret in secrets if secret)
        result.setdefault("changed", False)
        result["image"] = entry.params["image"]
        results.append(result)
    changed = any(result["changed"] for result in results)
    extra = {}
    if module._diff:
        extra["diff"] = [result.pop("diff") for result in results if "diff" in result]
    failed = [result for result in results if result["failed"]]
    if failed:
        module.fail_json(
            msg=" ".join(f"[{result['image']}] {result['msg']}" for result in failed),
            changed=changed,
            results=results,
            **extra,
        )
    module.exit_json(changed=changed, results=results, **extra)


def run_module(module) -> None:
    """Run outerloop.docker.image_publish with the module's parameters; exits the module."""
    require_sdk(module)
    if module.params["timeout"] < 1:
        module.fail_json(msg=f"timeout must be at least 1 second, not {module.params['timeout']}")
    if module.params.get("images") is not None:
        _publish_many(module)
        return
    state = {}
    try:
        result = publish(module, state)
    except (PublishRefused, EngineError, RegistryError, RecordError) as exc:
        registry = state.pop("registry", None)
        secrets = [module.params.get("password")] + (registry.secrets if registry is not None else [])
        module.fail_json(msg=sanitize(str(exc), secrets), **state)
    if state.get("registry") is not None:
        module.no_log_values.update(state["registry"].secrets)
    module.exit_json(**result)
