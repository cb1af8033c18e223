# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The body of outerloop.docker.release: create, validate or read a release manifest, and render its
compose file pinned by digest (_domain.release, _domain.release_compose)."""

from __future__ import annotations

import os

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.outerloop.docker.plugins.module_utils._domain.manifest import ReleaseError
from ansible_collections.outerloop.docker.plugins.module_utils._domain.release import (
    build_manifest,
    plan_manifest_file,
    plan_text_file,
    read_manifest,
    read_release_text,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.release_compose import render_compose
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.compose_yaml import (
    HAS_YAML,
    YAML_IMPORT_ERROR,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.files import write_atomic


def run_module(module) -> None:
    """Run outerloop.docker.release with the module's parameters; exits the module."""
    params = module.params
    path = params["path"]
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML (python3-yaml)"), exception=YAML_IMPORT_ERROR)
    result = {"changed": False, "path": path}
    diffs = []
    try:
        if params["state"] == "present":
            compose_file = params["compose_file"]
            if compose_file:
                compose_text = read_release_text(compose_file)
                if compose_text is None:
                    raise ReleaseError(f"compose_file {compose_file} does not exist")
            else:
                compose_text = params["compose_content"]
                if not params["compose_name"]:
                    raise ReleaseError(
                        "compose_name is required with compose_content: the file's path in the repository"
                    )
            manifest = build_manifest(
                application=params["application"],
                version=params["version"],
                source_repository=params["source_repository"],
                commit=params["commit"],
                ref=params["ref"],
                build_number=params["build_number"],
                build_host=params["build_host"],
                created=params["created"],
                tests=params["tests"],
                services=params["services"],
                compose_file=params["compose_name"] or os.path.basename(compose_file or ""),
                compose_content=compose_text,
            )
            plan = plan_manifest_file(path, manifest, force=params["force"])
            if plan["changed"] and not module.check_mode:
                write_atomic(path, plan["after"], prefix=".release-")
            result["changed"] = plan["changed"]
            diffs.append(
                {"before": plan["before"], "after": plan["after"], "before_header": path, "after_header": path}
            )
        else:
            manifest = read_manifest(path)
        result.update(manifest=manifest, release_id=manifest["release_id"], digest=manifest["digest"])
        dest = params["render_compose"]
        if dest:
            rendered = render_compose(manifest)
            plan = plan_text_file(dest, rendered["content"])
            if plan["changed"] and not module.check_mode:
                write_atomic(dest, rendered["content"], prefix=".release-")
            result["changed"] = result["changed"] or plan["changed"]
            result.update(
                compose_path=dest,
                images=rendered["images"],
                other_services=rendered["other_services"],
                unpinned_services=rendered["unpinned_services"],
            )
            diffs.append(
                {"before": plan["before"], "after": plan["after"], "before_header": dest, "after_header": dest}
            )
    except ReleaseError as exc:
        module.fail_json(msg=str(exc), errors=exc.errors, path=path)
    except OSError as exc:
        module.fail_json(msg=f"cannot write {exc.filename or path}: {exc.strerror or exc}", path=path)
    if module._diff and diffs:
        result["diff"] = diffs if len(diffs) > 1 else diffs[0]
    module.exit_json(**result)
