# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The body of outerloop.docker.registry_retention: delete the release images that are too old to keep.

A registry deletes by manifest digest, and deleting a digest deletes every tag on it. So the plan is made
per digest, from the verdict on each of its tags:

- a version tag (the SemVer version CI publishes, ``+`` written ``_``, see _release_gate.version_tag) may go
  when it is not one of the ``keep`` newest versions of its repository (SemVer precedence, not string
  order) and no environment runs that version;
- a ``passed-<ENVIRONMENT>-<VERSION TAG>`` tag (the promotion proof) may go under the same condition on
  its version: a running release needs its proofs to be promoted further or rolled back to;
- ``latest`` and every other tag (``MAJOR.MINOR`` floating tags, build tags, anything pushed by hand) stay.

A digest is deleted only when every one of its tags may go and no environment runs it (``protect``).
Everything above run_module is pure, and run_module is the module's edge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_error import RegistryError
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_push import push_client
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import (
    ImageRefError,
    normalized_name,
    parse_image_ref,
    validate_digest,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.secrets import sanitize

LATEST = "latest"
PASSED_PREFIX = "passed-"
# SemVer 2.0.0 as a Docker tag: build metadata after "_" instead of "+" (see _release_gate.version_tag).
_IDENT = r"(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
_VERSION_TAG = re.compile(
    r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    rf"(?:-({_IDENT}(?:\.{_IDENT})*))?"
    r"(?:_([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_ENVIRONMENT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")  # as _release_gate checks it


class RetentionError(Exception):
    """Options the module cannot work with; the message says what to give instead."""


# --- Pure: versions, tags, the plan ----------------------------------------------------------


def version_key(tag: str):
    """The SemVer precedence of a version tag as a sortable tuple, or None when ``tag`` is not one.

    A release sorts above its pre-releases, numeric pre-release identifiers below alphanumeric ones and
    by value; build metadata does not count for precedence and only breaks ties, so the order is total.
    """
    match = _VERSION_TAG.match(tag)
    if not match:
        return None
    major, minor, patch, pre, build = match.groups()
    pre_key = ()
    if pre:
        pre_key = tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in pre.split("."))
    return (int(major), int(minor), int(patch), 0 if pre else 1, pre_key, build or "")


def as_version_tag(version: str) -> str:
    """A version as given (``1.0.0+build.5``) or as a tag (``1.0.0_build.5``), written as its tag."""
    tag = str(version).strip().replace("+", "_")
    if version_key(tag) is None:
        raise RetentionError(
            f"protect_versions: {version!r} is not a SemVer version, for example 1.4.0 or 1.0.0-rc.1+build.5"
        )
    return tag


def parse_passed_tag(tag: str):
    """``(environment, version tag)`` of a ``passed-<ENVIRONMENT>-<VERSION TAG>`` tag, or None.

    An environment may hold ``-``; the version starts after the first ``-`` that leaves a version tag.
    """
    if not tag.startswith(PASSED_PREFIX):
        return None
    rest = tag[len(PASSED_PREFIX) :]
    for pos, char in enumerate(rest):
        if char == "-" and _ENVIRONMENT.match(rest[:pos]) and version_key(rest[pos + 1 :]) is not None:
            return rest[:pos], rest[pos + 1 :]
    return None


def newest_versions(tags, keep: int) -> list:
    """The ``keep`` newest version tags among ``tags``, newest first."""
    versions = [tag for tag in tags if version_key(tag) is not None]
    return sorted(versions, key=version_key, reverse=True)[:keep]


def tag_verdict(tag: str, newest: set, keep: int, running: set) -> tuple:
    """``(may go, why)`` for one tag, given the newest version tags of its repository and the running versions."""
    if tag == LATEST:
        return False, "latest is always kept"
    passed = parse_passed_tag(tag)
    version = passed[1] if passed else tag if version_key(tag) is not None else None
    if version is None:
        return False, f"{tag} is not a release tag (a version, passed-ENVIRONMENT-VERSION or latest)"
    what = f"{tag}: proof that {version} passed {passed[0]}" if passed else f"{tag}: version"
    if version in running:
        return False, f"{what}, which an environment runs or rolls back to"
    if version in newest:
        return False, f"{what}, one of the {keep} newest versions"
    return True, f"{what}, older than the {keep} newest versions and running nowhere"


@dataclass
class DigestPlan:
    """One manifest of a repository, its tags and whether it goes."""

    repository: str
    digest: str
    tags: list
    delete: bool = False
    reasons: list = field(default_factory=list)

    def result(self) -> dict:
        return {
            "repository": self.repository,
            "digest": self.digest,
            "image": f"{self.repository}@{self.digest}",
            "tags": self.tags,
            "reasons": self.reasons,
        }


def plan_repository(repository: str, tag_digests: dict, keep: int, protect, running) -> list:
    """A DigestPlan per digest of ``tag_digests`` (``{tag: digest}``), the newest versions first."""
    newest = set(newest_versions(tag_digests, keep))
    by_digest = {}
    for tag, digest in tag_digests.items():
        by_digest.setdefault(digest, []).append(tag)
    plans = []
    for digest, unsorted in by_digest.items():
        tags = sorted(unsorted, key=lambda tag: (version_key(tag) is None, version_key(tag) or (), tag))
        verdicts = [tag_verdict(tag, newest, keep, running) for tag in tags]
        plan = DigestPlan(repository, digest, tags)
        if digest in protect:
            plan.reasons = ["an environment runs this digest, or rolls back to it (protect)"]
        elif all(may_go for may_go, _why in verdicts):
            plan.delete = True
            plan.reasons = [why for _may_go, why in verdicts]
        else:
            plan.reasons = [why for may_go, why in verdicts if not may_go]
        plans.append(plan)

    def newest_first(plan):
        keys = [key for key in (version_key(tag) for tag in plan.tags) if key is not None]
        return (max(keys) if keys else (-1,), plan.digest)

    return sorted(plans, key=newest_first, reverse=True)


def protected_digests(values) -> set:
    """The digests of ``protect``: each ``sha256:...`` or an image pinned by digest."""
    digests = set()
    for value in values or []:
        text = str(value).strip()
        digest = text.rpartition("@")[2]
        try:
            digests.add(validate_digest(digest))
        except ImageRefError:
            raise RetentionError(
                f"protect: {value!r} is neither a digest (sha256: and 64 hex digits) nor an image pinned by digest "
                "(REGISTRY/REPOSITORY@sha256:...)"
            ) from None
    return digests


def repositories_of(repositories, releases) -> list:
    """The repositories (ImageRef without tag or digest) named directly and by the releases' services."""
    names = list(repositories or [])
    for index, release in enumerate(releases or []):
        services = release.get("services") if isinstance(release, dict) else None
        if not isinstance(services, dict) or not services:
            raise RetentionError(f"releases[{index}] is not a release manifest: it has no services")
        for service, entry in sorted(services.items()):
            if not isinstance(entry, dict) or not isinstance(entry.get("repository"), str):
                raise RetentionError(f"releases[{index}]: service {service} names no repository")
            names.append(entry["repository"])
    refs = {}
    for name in names:
        try:
            ref = parse_image_ref(name)
        except ImageRefError as exc:
            raise RetentionError(f"{exc}; give repositories as REGISTRY/REPOSITORY") from None
        if ref.tag or ref.digest:
            raise RetentionError(f"repository {name!r} has a tag or digest; give it as REGISTRY/REPOSITORY")
        refs.setdefault(normalized_name(ref), ref)
    if not refs:
        raise RetentionError("no repository to look at: give repositories, or releases whose services name them")
    return [refs[name] for name in sorted(refs)]


# --- The edge --------------------------------------------------------------------------------


def read_repository(client, ref) -> dict:
    """``{tag: digest}`` of every tag of the repository, as the registry has them now."""
    tag_digests = {}
    for tag in client.tags(ref):
        info = client.lookup(replace(ref, tag=tag, digest=""), fetch_config=False)
        if info.exists:  # a tag deleted since the list was read is no longer there to plan for
            tag_digests[tag] = info.digest
    return tag_digests


def run_module(module) -> None:
    """Run outerloop.docker.registry_retention with the module's parameters; exits the module."""
    params = module.params
    secrets = [params.get("password")]
    if params["keep"] < 1:
        module.fail_json(msg=f"keep must be at least 1 (the newest version always stays), not {params['keep']}")
    if params["timeout"] < 1:
        module.fail_json(msg=f"timeout must be at least 1 second, not {params['timeout']}")
    try:
        refs = repositories_of(params["repositories"], params["releases"])
        protect = protected_digests(params["protect"])
        running = {as_version_tag(version) for version in params["protect_versions"] or []}
    except RetentionError as exc:
        module.fail_json(msg=str(exc))

    clients, plans, before, deleted = {}, [], {}, []
    try:
        for ref in refs:
            host = ref.registry_host
            if host not in clients:
                clients[host] = push_client(host, params, params["timeout"], image=normalized_name(ref))
                secrets.extend(clients[host].secrets)
            tag_digests = read_repository(clients[host], ref)
            before[normalized_name(ref)] = sorted(tag_digests)
            plans.extend(plan_repository(normalized_name(ref), tag_digests, params["keep"], protect, running))
            secrets.extend(clients[host].secrets)
        doomed = [plan for plan in plans if plan.delete]
        if not module.check_mode:
            for ref in refs:
                name = normalized_name(ref)
                if (
                    any(plan.repository == name for plan in doomed)
                    and clients[ref.registry_host].tags(ref) != before[name]
                ):
                    raise RegistryError(
                        f"the tags of {name} changed while this run read them (a CI run publishing?); nothing was "
                        "deleted from it. Run again when no pipeline pushes."
                    )
            for plan in doomed:
                ref = next(ref for ref in refs if normalized_name(ref) == plan.repository)
                if clients[ref.registry_host].delete_manifest(ref, plan.digest):
                    deleted.append(plan)
    except RegistryError as exc:
        for client in clients.values():
            secrets.extend(client.secrets)
        done = (
            f" ({len(deleted)} manifests were deleted before: {', '.join(p.digest for p in deleted)})"
            if deleted
            else ""
        )
        module.fail_json(msg=sanitize(str(exc), secrets) + done, deleted=[plan.result() for plan in deleted])
    for client in clients.values():
        module.no_log_values.update(client.secrets)

    gone = doomed if module.check_mode else deleted
    after = {}
    for name, tags in before.items():
        dropped = {tag for plan in gone if plan.repository == name for tag in plan.tags}
        after[name] = [tag for tag in tags if tag not in dropped]
    kept = [plan for plan in plans if not plan.delete]
    result = {
        "changed": bool(gone),
        "deleted": [plan.result() for plan in gone],
        "kept": [plan.result() for plan in kept],
        "repositories": [
            {"repository": name, "tags_before": before[name], "tags_after": after[name]} for name in sorted(before)
        ],
        "summary": {
            "repositories": len(before),
            "digests_deleted": len(gone),
            "tags_deleted": sum(len(plan.tags) for plan in gone),
            "digests_kept": len(kept),
            "tags_kept": sum(len(plan.tags) for plan in kept),
        },
    }
    if module._diff:
        result["diff"] = {
            "before": "".join(f"{name}:{tag}\n" for name in sorted(before) for tag in before[name]),
            "after": "".join(f"{name}:{tag}\n" for name in sorted(after) for tag in after[name]),
        }
    module.exit_json(**result)
