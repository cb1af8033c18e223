# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The labels the collection reads and writes on images, containers and swarm services, named once."""

from __future__ import annotations

# Set by Docker Compose v2 on every container of a project.
COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_SERVICE = "com.docker.compose.service"
COMPOSE_ONEOFF = "com.docker.compose.oneoff"  # "True" on containers of `docker compose run`
COMPOSE_NUMBER = "com.docker.compose.container-number"

# Set by `docker stack deploy` on every service, network and task of a stack.
STACK_NAMESPACE = "com.docker.stack.namespace"

# The OCI image annotations image_build writes (https://github.com/opencontainers/image-spec).
OCI_REVISION = "org.opencontainers.image.revision"
OCI_SOURCE = "org.opencontainers.image.source"
OCI_VERSION = "org.opencontainers.image.version"
OCI_CREATED = "org.opencontainers.image.created"

# The collection's own.
BUILD_NUMBER = "io.outerloop.build-number"
CONTENT_KEY = "io.outerloop.content-key"  # image_build reuse_unchanged: what the image holds, without per-commit labels
IMAGE_TEST = "io.outerloop.image-test"  # on the throwaway containers of image_test
UPDATE_RESTARTED = "io.outerloop.update-restarted"  # on a swarm service whose update stack_deploy restarted
