# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Running a test command in a throwaway container, copying its results out, recording the outcome.

``run_test`` drives the engine through the Docker SDK's low-level API: create (not auto-removed,
so results can be copied after the exit), start, wait with a time limit, logs, ``get_archive``,
and always remove. The pure parts (volume specs, output tails, safe tar extraction, JUnit summary)
are plain functions tested without Docker. ``run_module`` is the edge that turns errors into
fail_json, after the record and the results are written.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import tarfile
import threading
import time
from dataclasses import dataclass, field

from ansible_collections.outerloop.docker.plugins.module_utils._domain.test_records import (
    RecordError,
    make_record,
    read_record,
    record_path,
    write_record,
)
from ansible_collections.outerloop.docker.plugins.module_utils._domain.test_results import (
    ChunkReader,
    UnsafeArchiveError,
    extract_results,
    summarize,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.engine import (
    TRANSPORT_ERRORS,
    EngineError,
    docker_host_of,
    engine_session,
    require_sdk,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.image_ref import (
    ImageRefError,
    parse_image_ref,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.labels import IMAGE_TEST as CONTAINER_LABEL
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.parallel import merged_params, run_each

try:  # noqa: SIM105 - the missing SDK is reported by require_sdk
    import docker.errors
except ImportError:
    pass

TAIL_LINES = 30
NO_EXIT_RC = -1  # the rc a record carries when the command did not exit by itself (timeout, no start)
_IMAGE_ID = re.compile(r"^sha256:[a-f0-9]{64}$")
_PREFIX = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,40}$")
_VOLUME_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class ImageTestError(Exception):
    """The test could not run, timed out, or failed; ``details`` go into the module's result."""

    def __init__(self, msg: str, details=None):
        super().__init__(msg)
        self.details = dict(details or {})


# ---------------------------------------------------------------------------------------------
# Inputs


def parse_volume(spec: str) -> tuple[str, str]:
    """``HOST:CONTAINER[:ro|rw]`` -> (bind for the host config, container path).

    HOST is an absolute path on the engine's host or the name of a volume.
    """
    parts = str(spec).split(":")
    if len(parts) not in (2, 3) or not all(parts[:2]):
        raise ImageTestError(f"volume {spec!r} is not HOST:CONTAINER or HOST:CONTAINER:ro")
    host, container = parts[0], parts[1]
    mode = parts[2] if len(parts) == 3 else "rw"
    if mode not in ("ro", "rw"):
        raise ImageTestError(f"volume {spec!r}: mode {mode!r} is neither ro nor rw")
    if not container.startswith("/"):
        raise ImageTestError(f"volume {spec!r}: the container path {container!r} is not absolute")
    if not host.startswith("/") and not _VOLUME_NAME.match(host):
        raise ImageTestError(
            f"volume {spec!r}: {host!r} is neither an absolute host path nor a volume name"
        )  # fmt: skip
    return f"{host}:{container}:{mode}", container


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


@dataclass
class RunRequest:
    image: str
    command: object = None
    env: dict = field(default_factory=dict)
    network: str | None = None
    user: str | None = None
    workdir: str | None = None
    run_timeout: int = 600
    binds: list = field(default_factory=list)
    mount_points: list = field(default_factory=list)
    results_path: str | None = None
    results_dest: str | None = None
    suite: str | None = None
    record_dir: str = ""
    fail_on_error: bool = True
    container_prefix: str = "image-test"
    skip_passed: bool = False

    @classmethod
    def from_params(cls, params: dict) -> RunRequest:
        image = params["image"]
        if not _IMAGE_ID.match(image or ""):
            parse_image_ref(image)
        if params["run_timeout"] < 1:
            raise ImageTestError(f"run_timeout must be at least 1 second, not {params['run_timeout']}")
        prefix = params["container_prefix"]
        if not _PREFIX.match(prefix or ""):
            raise ImageTestError(
                f"container_prefix {prefix!r} is not valid (letters, digits, '_', '.', '-'; at most 41 characters)"
            )
        results_path = params.get("results_path")
        if params.get("skip_passed") and not params.get("suite"):
            raise ImageTestError("skip_passed needs suite: only a suite has records to look at")
        if results_path is not None and (not results_path.startswith("/") or not results_path.strip("/")):
            raise ImageTestError(
                f"results_path {params['results_path']!r} must be an absolute path in the container, not /"
            )
        command = params.get("command")
        if isinstance(command, list):
            command = [_text(part) for part in command]
        elif command is not None:
            command = _text(command)
        volumes = [parse_volume(spec) for spec in params.get("volumes") or []]
        if results_path is not None:
            results_path = results_path.rstrip("/")
        return cls(
            image=image,
            command=command,
            env={str(key): _text(value) for key, value in (params.get("env") or {}).items()},
            network=params.get("network"),
            user=params.get("user"),
            workdir=params.get("workdir"),
            run_timeout=params["run_timeout"],
            binds=[volume[0] for volume in volumes],
            mount_points=[volume[1] for volume in volumes],
            results_path=results_path,
            results_dest=params.get("results_dest"),
            suite=params.get("suite"),
            record_dir=params["record_dir"],
            fail_on_error=params["fail_on_error"],
            container_prefix=prefix,
            skip_passed=bool(params.get("skip_passed")),
        )


# ---------------------------------------------------------------------------------------------
# Output, results, summaries


def output_lines(data) -> list[str]:
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    text = _ANSI.sub("", data or "").replace("\r\n", "\n").replace("\r", "\n")
    return [line.rstrip() for line in text.split("\n") if line.strip()]


def _lines(count: int) -> str:
    return "line" if count == 1 else f"{count} lines"


def tail(lines, count: int = TAIL_LINES) -> list[str]:
    lines = list(lines)
    return lines[-count:] if count > 0 else []


# ---------------------------------------------------------------------------------------------
# The run


@contextlib.contextmanager
def _sigterm_raises():
    """Turn SIGTERM into SystemExit so the container is removed when the task is killed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum, frame):
        raise SystemExit(f"terminated by signal {signum}")

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _wait(client, container, timeout: int):
    """The exit status, or None when the container still ran after ``timeout`` seconds."""
    started = time.monotonic()
    try:
        return client.wait(container, timeout=timeout).get("StatusCode")
    except TRANSPORT_ERRORS as exc:
        if "timed out" in str(exc).lower() or time.monotonic() - started >= timeout:
            return None
        raise


def _copy_results(client, container, request: RunRequest):
    """(paths written, warnings, error) of copying results_path out of the stopped container."""
    try:
        chunks, info = client.get_archive(container, request.results_path)
    except docker.errors.NotFound:
        return [], [f"{request.results_path} does not exist in the container; no results were copied"], None
    top = (info or {}).get("name") or os.path.basename(request.results_path)
    try:
        written, skipped = extract_results(ChunkReader(chunks), top, request.results_dest)
    except (UnsafeArchiveError, tarfile.TarError, OSError) as exc:
        return [], [], f"copying {request.results_path} to {request.results_dest} failed: {exc}"
    warnings = [f"{request.results_path}/{name} is not a regular file; not copied" for name in skipped]
    return written, warnings, None


def run_test(client, request: RunRequest, *, check_mode: bool = False, docker_host: str = "", on_create=None) -> dict:
    """Run the test; returns the result, or raises ImageTestError whose details hold the result.

    ``on_create(name)`` is called with the container's name as soon as it exists (several runs at once
    use it to remove their containers when the module is terminated).
    """
    try:
        image_id = client.inspect_image(request.image)["Id"]
    except docker.errors.NotFound:
        raise ImageTestError(
            f"image {request.image} is not on the Docker Engine at {docker_host}; build it there first "
            "(image_test does not pull)"
        ) from None
    record_file = record_path(request.record_dir, image_id, request.suite) if request.suite else None
    result = {"image_id": image_id, "record": None, "results": [], "stdout_tail": [], "stderr_tail": []}
    earlier = read_record(request.record_dir, image_id, request.suite) if request.skip_passed else None
    if earlier is not None and earlier.get("passed"):
        result.update(
            changed=False,
            tested_before=True,
            passed=True,
            rc=earlier.get("rc", 0),
            summary=earlier.get("summary") or "passed before, same image ID",
            failed_tests=[],
            record=record_file,
        )
        return result
    result["tested_before"] = False
    if check_mode:
        result.update(
            changed=True,
            msg=f"check mode: the test in image {request.image} was not run and no record was written",
        )
        return result

    name = f"{request.container_prefix}-{request.suite or 'run'}-{secrets.token_hex(4)}"
    result["container"] = name
    warnings = []
    rc = None
    timed_out = False
    start_error = ""
    copy_error = None
    written = []
    stdout = stderr = b""
    container = None
    started = time.monotonic()
    with _sigterm_raises():
        try:
            host_config = client.create_host_config(
                binds=request.binds or None,
                network_mode=request.network or None,
                auto_remove=False,
            )
            container = client.create_container(
                image_id,
                command=request.command,
                environment=request.env or None,
                user=request.user or None,
                working_dir=request.workdir or None,
                volumes=request.mount_points or None,
                labels={CONTAINER_LABEL: request.suite or "", f"{CONTAINER_LABEL}.image": request.image},
                name=name,
                host_config=host_config,
                detach=True,
            )
            if on_create is not None:
                on_create(name)
            started = time.monotonic()
            try:
                client.start(container)
            except docker.errors.APIError as exc:
                start_error = str(exc.explanation or exc)
            if not start_error:
                rc = _wait(client, container, request.run_timeout)
                if rc is None:
                    timed_out = True
                    with contextlib.suppress(docker.errors.APIError):
                        client.kill(container)
                    with contextlib.suppress(docker.errors.APIError, *TRANSPORT_ERRORS):
                        client.wait(container, timeout=30)
            result["duration"] = round(time.monotonic() - started, 3)
            stdout = client.logs(container, stdout=True, stderr=False)
            stderr = client.logs(container, stdout=False, stderr=True)
            if request.results_path:
                written, copy_warnings, copy_error = _copy_results(client, container, request)
                warnings.extend(copy_warnings)
        except docker.errors.APIError as exc:
            raise ImageTestError(
                f"the Docker Engine at {docker_host} failed while running {name} from {request.image}: "
                f"{exc.explanation or exc}",
                result,
            ) from None
        finally:
            if container is not None:
                try:
                    client.remove_container(container, force=True, v=True)
                except Exception as exc:  # never hide the run's outcome behind a cleanup failure
                    warnings.append(f"container {name} could not be removed ({exc}); remove it with docker rm -f")

    stdout_lines, stderr_lines = output_lines(stdout), output_lines(stderr)
    junit_files = [path for path in written if path.endswith(".xml")]
    summary, failed_tests, summary_warnings = summarize(
        rc, junit_files, timed_out=timed_out, run_timeout=request.run_timeout, start_error=start_error
    )
    warnings.extend(summary_warnings)
    passed = rc == 0 and not timed_out and not start_error
    result.update(
        changed=True,
        rc=rc,
        stdout_tail=tail(stdout_lines),
        stderr_tail=tail(stderr_lines),
        results=written,
        summary=summary,
        failed_tests=failed_tests,
        passed=passed,
        warnings=warnings,
    )
    if record_file:
        dest = os.path.abspath(request.results_dest) if request.results_dest else ""
        record = make_record(
            image_id,
            request.suite,
            passed,
            NO_EXIT_RC if rc is None else rc,
            summary=summary,
            junit=[os.path.relpath(path, dest) for path in junit_files],
        )
        try:
            result["record"] = write_record(request.record_dir, record)
        except OSError as exc:
            raise ImageTestError(
                f"the test ran (passed: {passed}, {summary}) but its record could not be written to "
                f"{request.record_dir}: {exc}; check record_dir and that the module may write there",
                result,
            ) from None

    what = f"the test{' suite ' + request.suite if request.suite else ''} in image {request.image} ({image_id[:19]})"
    if start_error:
        raise ImageTestError(f"{what} did not run: the container did not start: {start_error}", result)
    if timed_out:
        raise ImageTestError(
            f"{what} timed out after {request.run_timeout} s and was killed; raise run_timeout if it needs longer."
            f"{_output_for_message(stdout_lines, stderr_lines)}",
            result,
        )
    if copy_error:
        raise ImageTestError(f"{what}: {copy_error}", result)
    if rc != 0 and request.fail_on_error:
        raise ImageTestError(f"{what} failed: {summary}.{_output_for_message(stdout_lines, stderr_lines)}", result)
    return result


def _output_for_message(stdout_lines, stderr_lines) -> str:
    text = ""
    for label, lines in (("stdout", stdout_lines), ("stderr", stderr_lines)):
        shown = tail(lines)
        if shown:
            text += f"\nLast {_lines(len(shown))} of {label}:\n" + "\n".join(shown)
    return text


def _test_one(params: dict, *, check_mode: bool, on_create=None) -> dict:
    """One run as the module does it; a failure comes back as a result with failed and msg."""
    try:
        request = RunRequest.from_params(params)
        with engine_session(params) as client:
            result = run_test(
                client, request, check_mode=check_mode, docker_host=docker_host_of(params), on_create=on_create
            )
    except ImageTestError as exc:
        return {**exc.details, "failed": True, "msg": str(exc)}
    except (ImageRefError, EngineError, RecordError) as exc:
        return {"failed": True, "msg": str(exc)}
    result["failed"] = False
    return result


def _remove_containers(params: dict, names) -> None:
    """Best effort, when the module is terminated: remove the containers its runs created."""
    with contextlib.suppress(Exception), engine_session(params) as client:
        for name in list(names):
            with contextlib.suppress(Exception):
                client.remove_container(name, force=True, v=True)


def _test_many(module) -> None:
    """O(tests): every run at the same time (at most O(parallel)); one result per entry, in order."""
    params = module.params
    items = [merged_params(params, entry, "tests") for entry in params["tests"]]
    if not items:
        module.fail_json(msg="tests is empty; give at least one entry, or use image")
    created = []
    try:
        with _sigterm_raises():
            try:
                runs = run_each(
                    lambda item: _test_one(item, check_mode=module.check_mode, on_create=created.append),
                    items,
                    params["parallel"],
                )
            except SystemExit:
                _remove_containers(params, created)
                raise
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    for item, run in zip(items, runs, strict=True):
        run["name"] = item.get("name") or item["image"]
        run.setdefault("changed", False)
        for warning in run.pop("warnings", []):
            module.warn(f"{run['name']}: {warning}")
    changed = any(run["changed"] for run in runs)
    passed = all(run.get("passed") for run in runs)
    failed = [run for run in runs if run["failed"]]
    if failed:
        module.fail_json(
            msg=" ".join(f"[{run['name']}] {run['msg']}" for run in failed),
            changed=changed,
            passed=False,
            runs=runs,
        )
    module.exit_json(changed=changed, passed=passed, runs=runs)


def run_module(module) -> None:
    """Run outerloop.docker.image_test with the module's parameters; exits the module."""
    require_sdk(module)
    params = module.params
    if params.get("tests") is not None:
        _test_many(module)
        return
    try:
        request = RunRequest.from_params(params)
        with engine_session(params) as client:
            result = run_test(client, request, check_mode=module.check_mode, docker_host=docker_host_of(params))
    except ImageTestError as exc:
        for warning in exc.details.pop("warnings", []):
            module.warn(warning)
        module.fail_json(msg=str(exc), **exc.details)
    except (ImageRefError, EngineError, RecordError) as exc:
        module.fail_json(msg=str(exc))
    for warning in result.pop("warnings", []):
        module.warn(warning)
    # Ansible counts a result with a non-zero rc and no "failed" key as failed; with fail_on_error=false it is not.
    module.exit_json(failed=False, **result)
