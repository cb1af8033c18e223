# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The promotion gate: a release deploys to an environment only after it succeeded in the one before.

The proof lives in the registry, next to the images, as a tag on the exact manifest digest of every
service of the release: ``passed-<ENVIRONMENT>-<VERSION TAG>`` (for example ``passed-qa-1.4.0``).
Anyone who can read the registry can check it, from the target environment's inventory alone.

Two checks, in this order:

- authenticity: the release's version tag of every service (the tag CI published, see ``version_tag``)
  must hold exactly the manifest's digest. A manifest edited to point at another digest (and its
  ``digest`` field recomputed) passes the manifest's own validation, but not this check;
- promotion: with a required environment, every service's ``passed-<REQUIRED>-<VERSION TAG>`` tag must
  exist and hold the manifest's digest.

``record`` adds the ``passed-<ENVIRONMENT>-<VERSION TAG>`` tags after a successful deploy: the
manifest is read by digest and put back under the new tag (``_registry_push``), and the digest the
registry stored must be the release's.

Everything here raises GateError, ReleaseError or RegistryError. Two module bodies use it: release_gate's, and
compose_deploy's (its ``gate`` option checks the release in the same call as the deploy or its plan).
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from ansible_collections.outerloop.docker.plugins.module_utils._domain.manifest import ReleaseError, check_manifest
from ansible_collections.outerloop.docker.plugins.module_utils._domain.registry_error import RegistryError
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.compose_yaml import HAS_YAML
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import (
    ImageRefError,
    parse_image_ref,
    validate_tag,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.secrets import sanitize

# An environment name, as inventories name them (qa, staging, production); it becomes part of a tag.
_ENVIRONMENT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
PASSED_PREFIX = "passed"

# Actions on a passed tag, in the result.
PRESENT = "present"
CREATED = "created"
WOULD_CREATE = "would create"


class GateError(Exception):
    """A release the gate refuses, or options it cannot work with; the message says what to do next."""


# --- Pure helpers ----------------------------------------------------------------------------


def version_tag(version: str) -> str:
    """The Docker tag CI publishes a release version under.

    A SemVer version is a valid tag as it is, except for the ``+`` of build metadata, which Docker tags do
    not allow; it is written ``_`` (as in the release id): ``1.4.0`` -> ``1.4.0``,
    ``1.0.0-rc.1+build.5`` -> ``1.0.0-rc.1_build.5``.
    """
    try:
        return validate_tag(version.replace("+", "_"))
    except ImageRefError as exc:
        raise GateError(f"version {version!r} cannot be written as a Docker tag: {exc}") from None


def check_environment(name, option: str) -> str:
    if not isinstance(name, str) or not _ENVIRONMENT.match(name):
        raise GateError(
            f"{option} {name!r} is not an environment name: up to 32 lowercase letters, digits, '_' or '-', "
            "starting with a letter or digit, for example qa, staging or production"
        )
    return name


def passed_tag(environment: str, version: str) -> str:
    """``passed-<environment>-<version tag>``: the tag that proves a release succeeded in an environment."""
    return validate_tag(f"{PASSED_PREFIX}-{environment}-{version_tag(version)}")


@dataclass
class ServiceGate:
    """What the gate checked for one service of the release (returned as is, per service)."""

    repository: str
    digest: str
    version_tag: str
    version_tag_digest: str | None = None
    authentic: bool = False
    required_tag: str | None = None
    required_tag_digest: str | None = None
    passed_required: bool | None = None
    record_tag: str | None = None
    record_tag_digest: str | None = None
    record_action: str | None = None

    def result(self) -> dict:
        return asdict(self)


def plan_services(manifest: dict, environment: str | None, required_environment: str | None) -> dict:
    """``{service: ServiceGate}`` with the tags to look up, from a validated manifest."""
    vtag = version_tag(manifest["version"])
    required = passed_tag(required_environment, manifest["version"]) if required_environment else None
    record = passed_tag(environment, manifest["version"]) if environment else None
    return {
        name: ServiceGate(
            repository=service["repository"],
            digest=service["digest"],
            version_tag=vtag,
            required_tag=required,
            record_tag=record,
        )
        for name, service in sorted(manifest["services"].items())
    }


def authenticity_problems(gates: dict) -> list:
    problems = []
    for name, gate in gates.items():
        if gate.version_tag_digest is None:
            problems.append(
                f"service {name}: the registry has no tag {gate.repository}:{gate.version_tag} (the release's "
                f"version), so nothing shows that CI published {gate.digest} as this version"
            )
        elif not gate.authentic:
            problems.append(
                f"service {name}: the manifest says {gate.repository}@{gate.digest}, but the tag "
                f"{gate.repository}:{gate.version_tag} that CI published holds {gate.version_tag_digest}"
            )
    return problems


def requirement_problems(gates: dict) -> list:
    problems = []
    for name, gate in gates.items():
        if gate.required_tag_digest is None:
            problems.append(f"service {name}: the registry has no tag {gate.repository}:{gate.required_tag}")
        elif not gate.passed_required:
            problems.append(
                f"service {name}: the tag {gate.repository}:{gate.required_tag} holds {gate.required_tag_digest}, "
                f"another build than this release's {gate.digest}"
            )
    return problems


def refuse_forged(manifest: dict, problems: list, host: str) -> str:
    return (
        f"release {manifest['release_id']} is refused: the manifest does not match what CI published to the "
        f"registry (checked from host {host}). " + "; ".join(problems) + ". The manifest was edited after CI wrote "
        "it, or CI did not publish this release. Deploy the release manifest that CI wrote for version "
        f"{manifest['version']}, or publish a new release from CI."
    )


def refuse_unpromoted(manifest: dict, required: str, target: str | None, problems: list, host: str) -> str:
    who = f"{target} only accepts" if target else "the promotion rule only accepts"
    return (
        f"release {manifest['release_id']} has not passed {required}, and {who} releases that succeeded in "
        f"{required} (checked in the registry from host {host}): "
        + "; ".join(problems)
        + f". Deploy it to {required} first: ansible-playbook outerloop.docker.deploy -i inventories/{required} "
        f"-e outerloop_release_path=<the manifest file of {manifest['release_id']}>; a successful deploy there records "
        "the tags."
    )


# --- Against the registry --------------------------------------------------------------------


def _tag_digest(client, repository: str, tag: str) -> str | None:
    info = client.lookup(parse_image_ref(repository).with_tag(tag), fetch_config=False)
    return info.digest if info.exists else None


def _for_each_service(gates: dict, client_for, work) -> None:
    """``work(gate, client)`` for every service at once: each service's lookups go to its own repository (its own
    authorization scope), so a release of N services waits for one service's round trips, not for N. The first
    error, in the order of the services, is raised once every lookup has ended."""
    clients = {name: client_for(gate.repository) for name, gate in gates.items()}  # made here, in one thread
    with ThreadPoolExecutor(max_workers=max(1, min(len(gates), 8))) as pool:
        futures = [pool.submit(work, gate, clients[name]) for name, gate in gates.items()]
    for future in futures:
        future.result()


def check_gates(gates: dict, client_for) -> None:
    """Fill in what the registry holds for the version tags and the required tags."""

    def check(gate, client) -> None:
        gate.version_tag_digest = _tag_digest(client, gate.repository, gate.version_tag)
        gate.authentic = gate.version_tag_digest == gate.digest
        if gate.required_tag:
            gate.required_tag_digest = _tag_digest(client, gate.repository, gate.required_tag)
            gate.passed_required = gate.required_tag_digest == gate.digest

    _for_each_service(gates, client_for, check)


def plan_records(gates: dict, client_for) -> list:
    """Look up every service's record tag; the names of the services whose tag must be written.

    A record tag that holds another digest is refused: what passed under this version is another build.
    """
    todo, problems = [], []

    def look(gate, client) -> None:
        gate.record_tag_digest = _tag_digest(client, gate.repository, gate.record_tag)

    _for_each_service(gates, client_for, look)
    for name, gate in gates.items():
        if gate.record_tag_digest is None:
            todo.append(name)
        elif gate.record_tag_digest == gate.digest:
            gate.record_action = PRESENT
        else:
            problems.append(
                f"service {name}: the tag {gate.repository}:{gate.record_tag} already holds {gate.record_tag_digest}, "
                f"not this release's {gate.digest}"
            )
    if problems:
        raise GateError(
            "the registry already records another build as passed under this version: "
            + "; ".join(problems)
            + ". A release version is published once; find out how the tag came to hold another digest, delete it "
            "in the registry if it is wrong, and run again."
        )
    return todo


def write_records(gates: dict, names: list, client_for) -> None:
    """Put each service's manifest under its record tag, then read the tag back."""
    for name in names:
        gate = gates[name]
        client = client_for(gate.repository)
        ref = parse_image_ref(gate.repository)
        media_type, body = client.raw_manifest(ref, gate.digest)
        stored = client.put_tag(ref, gate.record_tag, media_type, body)
        if stored != gate.digest:
            raise GateError(
                f"service {name}: the registry stored {gate.repository}:{gate.record_tag} as {stored}, not as the "
                f"release's {gate.digest}; the registry rewrote the manifest. Delete the tag and check the registry."
            )
        read_back = _tag_digest(client, gate.repository, gate.record_tag)
        if read_back != gate.digest:
            raise GateError(
                f"service {name}: after writing it, the tag {gate.repository}:{gate.record_tag} holds {read_back}, not "
                f"{gate.digest}; another writer moved it. Run again."
            )
        gate.record_tag_digest = stored
        gate.record_action = CREATED


def run_gate(params: dict, check_mode: bool, client_for, host: str, result: dict) -> dict:
    """The module's work; fills in ``result`` as it goes (what was checked, also when it refuses) and
    raises GateError, ReleaseError or RegistryError on refusal."""
    state = params["state"]
    environment = params.get("environment")
    required = params.get("required_environment")
    if state == "recorded" and not environment:
        raise GateError("state=recorded needs environment: the environment the release just succeeded in")
    if environment:
        check_environment(environment, "environment")
    if required:
        check_environment(required, "required_environment")
        if required == environment:
            raise GateError(
                f"required_environment and environment are both {required!r}: a release cannot require itself"
            )
    manifest = check_manifest(params["release"], "given in the release option", parse_compose=HAS_YAML)
    gates = plan_services(manifest, environment, required)
    result.update(
        changed=False,
        state=state,
        release_id=manifest["release_id"],
        application=manifest["application"],
        version=manifest["version"],
        version_tag=version_tag(manifest["version"]),
        environment=environment,
        required_environment=required,
        services=gates,
        recorded_tags=[],
    )
    check_gates(gates, client_for)
    forged = authenticity_problems(gates)
    if forged:
        raise GateError(refuse_forged(manifest, forged, host))
    missing = requirement_problems(gates) if required else []
    if missing:
        raise GateError(refuse_unpromoted(manifest, required, environment, missing, host))
    if environment:  # verified too: whether the proof is there already (a rerun need not record it)
        todo = plan_records(gates, client_for)
        if state == "recorded" and todo:
            result["changed"] = True
            if check_mode:
                for name in todo:
                    gates[name].record_action = WOULD_CREATE
            else:
                write_records(gates, todo, client_for)
            result["recorded_tags"] = [f"{gates[name].repository}:{gates[name].record_tag}" for name in todo]
    return result


class GateClients:
    """One registry client per registry host, made on first use from the registry options in ``params``
    (REGISTRY_ARG_SPEC) with ``client_factory``; called with a repository, it returns that repository's client."""

    def __init__(self, params: dict, timeout: int, client_factory):
        self._params, self._timeout, self._factory = params, timeout, client_factory
        self._clients = {}

    def __call__(self, repository: str):
        registry = parse_image_ref(repository).registry_host
        if registry not in self._clients:
            self._clients[registry] = self._factory(registry, self._params, self._timeout, image=repository)
        return self._clients[registry]

    def secrets(self) -> list:
        """Every secret value the options and the clients hold (a token, once fetched, too), for masking."""
        found = [self._params.get("password")]
        for client in self._clients.values():
            found.extend(client.secrets)
        return [value for value in found if value]


def as_output(result: dict) -> dict:
    """The gate's result as a module returns it: every service as a plain dict."""
    if "services" not in result:
        return result
    return dict(result, services={name: gate.result() for name, gate in result["services"].items()})


def gate_outcome(options: dict, check_mode: bool, client_factory, host: str, timeout: int) -> tuple:
    """Run the gate with release_gate's ``options`` from ``host``: ``(result, refusal, secrets)``, the result as a
    module returns it (without ``changed`` when refused), the refusal's message with every secret masked (None
    when the gate passed), and the secret values the output must not show. release_gate's body and
    compose_deploy's (option gate) both end here."""
    clients = GateClients(options, timeout, client_factory)
    result = {}
    try:
        run_gate(options, check_mode, clients, host, result)
    except (GateError, ReleaseError, RegistryError) as exc:
        result.pop("changed", None)
        return as_output(result), sanitize(str(exc), clients.secrets()), clients.secrets()
    return as_output(result), None, clients.secrets()
