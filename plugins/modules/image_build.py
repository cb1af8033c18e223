#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: image_build
short_description: Build Docker images from context directories on the build host with BuildKit, with OCI labels
version_added: 0.1.0
description:
  - Builds one image from the context directory O(path) on the host the module runs on (the build
    host), and tags it as O(name):TAG for every tag in O(tags), for example the build number and the short
    commit.
  - "The build runs with BuildKit (O(builder)): C(docker buildx build) where the buildx plugin is installed
    (C(docker buildx version) answers), C(DOCKER_BUILDKIT=1 docker build) otherwise (the docker CLI 20.10 of
    Debian's C(docker.io) package). So Dockerfile 1.2 features work: cache mounts (C(RUN --mount=type=cache)),
    secret mounts (C(RUN --mount=type=secret), see O(secrets)), multi-stage builds that build only the
    stages the target needs. BuildKit's built-in Dockerfile frontend is used; a C(# syntax=) directive needs
    a frontend image that the build host can pull."
  - With O(builder=classic) the Docker Engine's classic builder builds, through the Engine API (what
    C(docker build) without BuildKit does), as before BuildKit was the default.
  - Sets the OCI labels C(org.opencontainers.image.revision), C(.source), C(.version) and C(.created)
    and the label C(io.outerloop.build-number) from O(revision), O(source), O(version), O(created) and
    O(build_number), plus any O(labels). An option that is not set adds no label.
  - The build is reproducible in the sense that matters for a pipeline. The same source, the same build
    arguments and the same labels hit the engine's build cache at every step and give the same image ID,
    and the task then reports no change. This is why O(created) is the commit time the caller passes and
    never the current time.
  - A failing build fails the task with the build host, the Dockerfile step that failed (BuildKit's
    C([stage N/M] INSTRUCTION) line, the classic builder's C(Step N/M)), the builder's error and the last 30
    lines of the build output. A missing context directory or Dockerfile fails before anything is built.
  - A C(.dockerignore) file in O(path) is honoured.
  - With O(builds), one task builds several images at the same time (at most O(parallel) at once), for
    example every service of a compose application. Each entry of O(builds) gives its own O(path), O(name),
    O(dockerfile), O(target), O(build_args) and O(labels); every other option is shared. Each build is
    judged on its own (RV(results)); when one fails, the others still finish, and the task fails naming
    every failed build.
  - With O(reuse_unchanged), an image whose content did not change since an earlier build keeps that
    earlier image, hence its registry digest, so a deploy does not restart its containers. The build
    runs without the per-commit labels (those of O(revision), O(version), O(created) and O(build_number)),
    the module computes a content key of the result (RV(content_key)) and looks on the build host for an
    image tagged in O(name) that carries the label C(io.outerloop.content-key) with that key. When there
    is one, O(tags) are put on it (RV(reused)); when there is none, the per-commit labels and the content
    key are added to an image of the same content (BuildKit builds the same again, every step from the
    build cache, with the labels; the classic builder builds C(FROM) the built image with the labels), and
    O(tags) are put on that.
  - Build arguments that the Dockerfile does not declare with C(ARG) (in any stage) are not sent; their
    names are returned as RV(ignored_build_args). Docker's predefined proxy arguments (C(HTTP_PROXY) and
    the like) are always sent.
author:
  - outerloop.docker contributors (@outerloop)
extends_documentation_fragment:
  - outerloop.docker.engine
options:
  path:
    description:
      - The build context, a directory on the build host, for example the checkout of the commit to build.
      - Required unless O(builds) is given; not allowed with it.
    type: path
  dockerfile:
    description:
      - The Dockerfile, relative to O(path).
    type: str
    default: Dockerfile
  name:
    description:
      - The repository the image is tagged in, without a tag, for example V(reg1:5000/sample/api) or
        V(sample/api). Validated with Docker's rules for image references.
      - Required unless O(builds) is given; not allowed with it.
    type: str
  tags:
    description:
      - The tags the built image gets in O(name), for example the build number and the short commit.
      - The first tag is the one whose previous image decides whether the task changed something (see
        RV(changed)).
    type: list
    elements: str
    default: [latest]
  build_args:
    description:
      - Build arguments (C(ARG) in the Dockerfile), as C(docker build --build-arg KEY=VALUE). Values
        are passed as strings.
      - Only those that the Dockerfile declares are sent (RV(ignored_build_args)), so that arguments shared
        by several O(builds), such as a version, reach only the images that use them.
      - A base image given as a build argument lets the same Dockerfile use a public image by default
        and a locally built one where nothing can be pulled.
    type: dict
  target:
    description:
      - The build stage to build, in a multi-stage Dockerfile. The default is the last stage.
    type: str
  pull:
    description:
      - Ask the engine to pull a newer version of every base image before building.
      - With V(false) base images already on the build host are used as they are (and pulled only if
        missing).
    type: bool
    default: false
  nocache:
    description:
      - Build every step anew, without the build cache. The result is a new image ID, so the task always
        reports a change.
    type: bool
    default: false
  labels:
    description:
      - Further labels to set on the image. A key that one of O(revision), O(source), O(version),
        O(created) or O(build_number) also sets must have the same value.
    type: dict
  revision:
    description:
      - The full commit SHA of the source (40 or 64 lowercase hex digits, as C(git rev-parse HEAD)
        prints it), set as label C(org.opencontainers.image.revision).
    type: str
  source:
    description:
      - The URL of the source repository, set as label C(org.opencontainers.image.source).
    type: str
  version:
    description:
      - The version of the packaged software, set as label C(org.opencontainers.image.version).
    type: str
  created:
    description:
      - The time to record as label C(org.opencontainers.image.created), an RFC 3339 date-time such as
        V(2026-11-26T14:00:00+01:00). Pass the commit time (C(git log -1 --format=%cI)), so that the same
        commit gives the same labels and so the same image.
      - There is no default; when it is not set, the label is not set either.
    type: str
  build_number:
    description:
      - The CI build number, set as label C(io.outerloop.build-number).
      - A different build number is a different label, so it gives a new image ID even for unchanged source.
    type: str
  builds:
    description:
      - Several builds in one task, run at the same time (see O(parallel)). The options of an entry replace
        the shared ones of the same name for that build; its O(build_args) and O(labels) are added to the
        shared ones.
      - The result is then RV(results), one entry per build in this order.
    type: list
    elements: dict
    suboptions:
      path:
        description:
          - The build context of this build, as O(path).
        type: path
        required: true
      name:
        description:
          - The repository of this build's image, as O(name).
        type: str
        required: true
      dockerfile:
        description:
          - The Dockerfile relative to this entry's O(builds[].path); default the shared O(dockerfile).
        type: str
      target:
        description:
          - The build stage, as O(target).
        type: str
      build_args:
        description:
          - Build arguments of this build, added to (and replacing keys of) the shared O(build_args).
        type: dict
      labels:
        description:
          - Labels of this build, added to (and replacing keys of) the shared O(labels).
        type: dict
  parallel:
    description:
      - With O(builds), how many builds run at the same time. V(1) builds one after another.
    type: int
    default: 4
  reuse_unchanged:
    description:
      - Reuse an earlier image of the same content instead of making a new one that differs only in its
        per-commit labels, see the description.
      - The content key is a SHA-256 over the image's layers (the C(RootFS) diff IDs), its platform, and
        the configuration a container runs with (C(Env), C(Cmd), C(Entrypoint), C(User), C(WorkingDir),
        C(ExposedPorts), C(Volumes), C(Healthcheck), C(StopSignal), C(OnBuild)) and its labels other than
        the per-commit ones (those of the Dockerfile, its base image, O(labels) and O(source)). A build
        argument that reaches the image (for example through C(ENV)) is part of it; one that does not
        changes nothing.
      - A reused image keeps the labels it was made with. Its C(org.opencontainers.image.revision) is
        the commit that last changed its content, its C(io.outerloop.build-number) that build's.
      - Only images on the build host count (the engine that builds). An image built on another host, or
        removed from this one, is not found, and the build makes a new image (a new digest).
      - Pushing a reused image under a new tag to a registry that already holds it gives the same
        manifest digest as before.
    type: bool
    default: false
  build_timeout:
    description:
      - Seconds the whole build may take. When it is exceeded the module stops the build (BuildKit - the
        docker CLI is stopped, which cancels the build; the classic builder - the connection is dropped, which
        makes the engine cancel it) and fails.
      - With the classic builder it also bounds how long a single step may run without printing anything.
    type: int
    default: 3600
  builder:
    description:
      - Which builder builds.
      - V(auto) and V(buildkit) build with BuildKit through the docker CLI on the build host - C(docker buildx
        build) when the buildx plugin is installed, else C(DOCKER_BUILDKIT=1 docker build). The task fails,
        naming the host, when the docker CLI is missing.
      - V(classic) builds with the engine's classic builder through the Docker SDK; no O(secrets), no C(RUN
        --mount).
      - The builder used is returned as RV(builder) and RV(build_cli).
      - The two builders make different image IDs of the same source; the first build after a change of
        builder makes new images (with O(reuse_unchanged), no earlier image has their content key).
    type: str
    choices: [auto, buildkit, classic]
    default: auto
  secrets:
    description:
      - Build secrets, passed as C(--secret id=ID,src=FILE). A C(RUN --mount=type=secret,id=ID) step reads the
        secret as the file C(/run/secrets/ID); it reaches neither the image nor its history.
      - Each entry gives O(secrets[].id) and exactly one of O(secrets[].src) and O(secrets[].value). A value
        is written to a file that only its owner can read, in the module's temporary directory on the build
        host, and removed after the builds.
      - Values, and the content of a O(secrets[].src) file up to 64 KiB, are masked in RV(log_tail) and in
        failure messages, should a step print them.
      - Shared by every entry of O(builds). Needs BuildKit; with O(builder=classic) the task fails.
    type: list
    elements: dict
    suboptions:
      id:
        description:
          - The secret's id, as C(RUN --mount=type=secret,id=ID) names it.
        type: str
        required: true
      src:
        description:
          - A file on the build host that holds the secret.
        type: path
      value:
        description:
          - The secret itself, for example from Ansible Vault.
        type: str
attributes:
  check_mode:
    support: partial
    description:
      - Can run in check mode and return a predicted change status without building (for every entry of
        O(builds)).
    details:
      - Check mode does not build (it only asks C(docker buildx version) which builder it would use). It
        predicts RV(changed=false) only when O(revision) is set, every tag in O(tags) already exists on the
        engine, all of them name the same image, and that image carries the same
        C(org.opencontainers.image.revision) label and the same C(io.outerloop.build-number) label (or,
        without O(build_number), none) as this task would set; otherwise it reports RV(changed=true). Other
        differences (changed files, build arguments, labels) are not detected.
      - With O(reuse_unchanged), an image that carries the label C(io.outerloop.content-key) is taken as
        this task's result whatever its revision and build number labels (it may have been reused from the
        build of an earlier commit), when every tag names it.
      - The context directory, the Dockerfile, the labels and the image reference are validated in check
        mode too.
  diff_mode:
    support: none
    description:
      - Returns no diff; RV(image_id), RV(tags) and RV(labels) describe the result.
  idempotent:
    support: full
    description:
      - With unchanged source, build arguments and labels every step comes from the build cache, the image
        ID is the same and every tag already names it, so the task reports no change.
      - With O(reuse_unchanged) the same holds. The build without the per-commit labels comes from the
        cache, its content key finds the image this task tagged before, and nothing is tagged again.
requirements:
  - For BuildKit (the default), the docker CLI on the build host (C(docker-ce-cli) and C(docker-buildx-plugin)
    from Docker's apt repository, or Debian's C(docker.io)); C(timeout) from coreutils bounds the build
  - A running Docker Engine reachable at O(docker_host)
notes:
  - O(path) is read on the host the module runs on and sent to the Docker Engine of O(docker_host), which builds;
    O(timeout) is for the engine's answers other than the build itself (see O(build_timeout)).
  - BuildKit builds go through the docker CLI because the Docker SDK for Python only drives the classic
    builder; the image ID comes from the CLI's C(--iidfile), the rest from the engine's image inspection.
    With buildx, the build's result is loaded into the engine's image store (C(--load)), without provenance
    attestations, so that the same build gives the same image ID.
  - The build cache (and BuildKit's cache mounts) is the engine's, on the build host. A build host whose cache
    was pruned builds again and gets a new image ID for the same commit.
  - Image IDs are local to an engine. The registry digest of a pushed image is what identifies it
    elsewhere.
seealso:
  - module: outerloop.docker.image_test
  - name: BuildKit
    description: Cache mounts, secret mounts and the other build features BuildKit brings.
    link: https://docs.docker.com/build/buildkit/
  - name: Build secrets
    description: C(RUN --mount=type=secret) and C(--secret).
    link: https://docs.docker.com/build/building/secrets/
  - name: docker build (legacy builder)
    description: The classic builder and the build cache this module relies on.
    link: https://docs.docker.com/reference/cli/docker/build-legacy/
  - name: OCI image annotations
    description: The pre-defined C(org.opencontainers.image.*) keys.
    link: https://github.com/opencontainers/image-spec/blob/main/annotations.md
"""

EXAMPLES = r"""
- name: Build the API image of a commit, tagged with the build number and the short commit
  outerloop.docker.image_build:
    path: /srv/build/sample/api
    name: reg1:5000/sample/api
    tags:
      - "{{ build_number }}"
      - "{{ commit[:12] }}"
    revision: "{{ commit }}"
    source: https://git.example.com/sample.git
    version: 1.4.0
    created: "{{ commit_time }}"
    build_number: "{{ build_number }}"
    build_args:
      PYTHON_IMAGE: outerloop-lab/debian:bookworm
  register: api_image

- name: Build every service of an application at once, with shared tags and labels
  outerloop.docker.image_build:
    builds:
      - path: /srv/build/sample
        dockerfile: api/Dockerfile
        name: reg1:5000/sample/api
      - path: /srv/build/sample
        dockerfile: worker/Dockerfile
        name: reg1:5000/sample/worker
      - path: /srv/build/sample/store
        name: reg1:5000/sample/store
        build_args:
          BASE_IMAGE: debian:bookworm-slim
    tags: ["build-{{ build_number }}"]
    revision: "{{ commit }}"
    created: "{{ commit_time }}"
    build_number: "{{ build_number }}"
  register: built

- name: The image ID of each service
  ansible.builtin.debug:
    msg: "{{ built.results | items2dict(key_name='name', value_name='image_id') }}"

- name: Build every service, keeping the earlier image (and digest) of a service whose content did not change
  outerloop.docker.image_build:
    builds:
      - {path: /srv/build/sample, dockerfile: api/Dockerfile, name: reg1:5000/sample/api}
      - {path: /srv/build/sample, dockerfile: worker/Dockerfile, name: reg1:5000/sample/worker}
      - {path: /srv/build/sample/store, name: reg1:5000/sample/store}
    tags: ["build-{{ build_number }}"]
    revision: "{{ commit }}"
    version: "{{ version }}"
    created: "{{ commit_time }}"
    build_number: "{{ build_number }}"
    build_args:
      APP_VERSION: "{{ version }}"  # sent only to the Dockerfiles that declare ARG APP_VERSION
    reuse_unchanged: true
  register: built

- name: Say which services kept their earlier image
  ansible.builtin.debug:
    msg: "{{ built.results | selectattr('reused') | map(attribute='name') | list }}"

- name: Build with a cache mount and a build secret (a token from Vault that the build fetches packages with)
  outerloop.docker.image_build:
    path: /srv/build/sample/api
    name: reg1:5000/sample/api
    tags: ["{{ build_number }}"]
    revision: "{{ commit }}"
    secrets:
      - id: pip_token
        value: "{{ vault_pip_token }}"
      - id: netrc
        src: /etc/outerloop/netrc
  # The Dockerfile reads them with
  #   RUN --mount=type=cache,target=/root/.cache/pip --mount=type=secret,id=pip_token \
  #       PIP_INDEX_URL="https://ci:$(cat /run/secrets/pip_token)@pypi.example.com/simple" \
  #       pip install -r requirements.txt

- name: Build with the engine's classic builder, as before BuildKit was the default
  outerloop.docker.image_build:
    path: /srv/build/legacy
    name: legacy/app
    builder: classic

- name: Build the test stage of a multi-stage Dockerfile, with a generous time limit
  outerloop.docker.image_build:
    path: /srv/build/sample/worker
    dockerfile: docker/Dockerfile
    target: test
    name: sample/worker-test
    tags: ["{{ build_number }}"]
    build_timeout: 7200
"""

RETURN = r"""
image_id:
  description:
    - The ID of the built image.
    - In check mode, the ID of the image the tags already name when no change is predicted, otherwise null.
  returned: always without O(builds) (with it, in every entry of RV(results))
  type: str
  sample: sha256:e292a57c478898c604242cde2c5802d87366d8d2d773db1103098a43be6c1f41
tags:
  description:
    - The full references the image is tagged with, O(name):TAG for every tag.
  returned: always without O(builds) (with it, in every entry of RV(results))
  type: list
  elements: str
  sample: [reg1:5000/sample/api:42, reg1:5000/sample/api:3f9c2a1b7d0e]
labels:
  description:
    - The labels the built image carries, including those of the base image and the Dockerfile.
    - In check mode, the labels this task would set.
  returned: always without O(builds) (with it, in every entry of RV(results) that did not fail before building)
  type: dict
  sample:
    org.opencontainers.image.revision: 3f9c2a1b7d0e4c5a8b6d9e0f1a2b3c4d5e6f7a8b
    org.opencontainers.image.created: "2026-11-26T14:00:00+01:00"
    io.outerloop.build-number: "42"
builder:
  description:
    - The builder used, V(buildkit) or V(classic) (see O(builder)).
  returned: always
  type: str
  sample: buildkit
build_cli:
  description:
    - The command that built with BuildKit, V(docker buildx build) or V(DOCKER_BUILDKIT=1 docker build); null
      with the classic builder.
  returned: always
  type: str
  sample: DOCKER_BUILDKIT=1 docker build
log_tail:
  description:
    - The last 30 lines of the build output (empty in check mode), secrets masked.
    - Also returned when the build fails.
  returned: always without O(builds) (with it, in every entry of RV(results) that reached the engine)
  type: list
  elements: str
  sample: ["#9 [stage-1 2/2] COPY --from=build /app /app", "#9 CACHED", "#10 exporting to image"]
cached:
  description:
    - Whether every step except C(FROM) came from the build cache (with BuildKit, every step of the stages
      the target needs).
  returned: when the image was built (not in check mode)
  type: bool
  sample: true
changed:
  description:
    - V(false) when the built image has the ID that O(name):FIRST_TAG had before the build and every tag
      already named that image; V(true) otherwise.
    - In check mode, the prediction described under C(attributes).
    - With O(builds), V(true) when any build changed something.
  returned: always
  type: bool
results:
  description:
    - With O(builds), one entry per build, in the order of O(builds). Each has the keys a single build
      returns (RV(image_id), RV(tags), RV(labels), RV(log_tail), RV(cached), RV(changed), RV(step),
      RV(content_key), RV(reused), RV(reused_from), RV(ignored_build_args), RV(builder), RV(build_cli)) and
      the keys below.
  returned: when O(builds) is given
  type: list
  elements: dict
  contains:
    name:
      description: The entry's O(builds[].name).
      type: str
      sample: reg1:5000/sample/api
    path:
      description: The entry's build context, as an absolute path.
      type: str
      sample: /srv/build/sample
    dockerfile:
      description: The entry's Dockerfile, relative to RV(results[].path).
      type: str
      sample: api/Dockerfile
    failed:
      description: Whether this build failed.
      type: bool
      sample: false
    msg:
      description: Why this build failed, as a single build's failure message says it.
      type: str
      returned: when this build failed
content_key:
  description:
    - With O(reuse_unchanged), the content key of the built image, C(sha256:HEX) (see O(reuse_unchanged)).
      The image that the tags name carries it as label C(io.outerloop.content-key).
  returned: with O(reuse_unchanged), when the image was built (not in check mode)
  type: str
  sample: sha256:5b1f0c4b6d3e2a19c8f7e6d5c4b3a291807f6e5d4c3b2a1908f7e6d5c4b3a291
reused:
  description:
    - With O(reuse_unchanged), whether the tags now name an image made by an earlier build of another
      commit (its revision label differs from O(revision); without O(revision), whether an earlier image
      was found at all). V(false) when this task made the image, or this commit's build made it before.
  returned: with O(reuse_unchanged), when the image was built (not in check mode)
  type: bool
  sample: true
reused_from:
  description:
    - When RV(reused), the earlier image, its tags in O(name) other than O(tags), and its revision label.
  returned: with O(reuse_unchanged), when the image was built (not in check mode); null unless RV(reused)
  type: dict
  sample:
    image_id: sha256:e292a57c478898c604242cde2c5802d87366d8d2d773db1103098a43be6c1f41
    tags: [reg1:5000/sample/worker:build-41, reg1:5000/sample/worker:9b2d41c0e7aa]
    revision: 9b2d41c0e7aa5d3f8c1b2a3d4e5f60718293a4b5
ignored_build_args:
  description:
    - The names of O(build_args) that the Dockerfile does not declare with C(ARG); they were not sent.
  returned: when there are any
  type: list
  elements: str
  sample: [APP_BUILD, APP_REVISION, APP_VERSION]
step:
  description:
    - The Dockerfile step that failed (BuildKit), or that was running when the build failed (classic builder),
      as the build output prints it.
  returned: on a failed build, when a step had started
  type: str
  sample: "[test 5/6] RUN make test"
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.outerloop.docker.plugins.module_utils._image_build import run_module
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import ENGINE_ARG_SPEC
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.parallel import PARALLEL_ARG_SPEC


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path"},
            "dockerfile": {"type": "str", "default": "Dockerfile"},
            "name": {"type": "str"},
            "builds": {
                "type": "list",
                "elements": "dict",
                "options": {
                    "path": {"type": "path", "required": True},
                    "name": {"type": "str", "required": True},
                    "dockerfile": {"type": "str"},
                    "target": {"type": "str"},
                    "build_args": {"type": "dict"},
                    "labels": {"type": "dict"},
                },
            },
            **PARALLEL_ARG_SPEC,
            "tags": {"type": "list", "elements": "str", "default": ["latest"]},
            "build_args": {"type": "dict"},
            "target": {"type": "str"},
            "pull": {"type": "bool", "default": False},
            "nocache": {"type": "bool", "default": False},
            "labels": {"type": "dict"},
            "revision": {"type": "str"},
            "source": {"type": "str"},
            "version": {"type": "str"},
            "created": {"type": "str"},
            "build_number": {"type": "str"},
            "build_timeout": {"type": "int", "default": 3600},
            "reuse_unchanged": {"type": "bool", "default": False},
            "builder": {"type": "str", "default": "auto", "choices": ["auto", "buildkit", "classic"]},
            "secrets": {
                "type": "list",
                "elements": "dict",
                "no_log": False,
                "options": {
                    "id": {"type": "str", "required": True},
                    "src": {"type": "path"},
                    "value": {"type": "str", "no_log": True},
                },
                "mutually_exclusive": [("src", "value")],
                "required_one_of": [("src", "value")],
            },
            **ENGINE_ARG_SPEC,
        },
        required_one_of=[("path", "builds")],
        required_together=[("path", "name")],
        mutually_exclusive=[("path", "builds"), ("name", "builds")],
        supports_check_mode=True,
    )
    run_module(module)


if __name__ == "__main__":
    main()
