"""The release lookup and the release_images / pinned_compose / release_errors filters."""

import json

import pytest
import yaml
from ansible.errors import AnsibleError
from ansible.parsing.dataloader import DataLoader
from ansible_collections.outerloop.docker.plugins.filter.release import FilterModule
from ansible_collections.outerloop.docker.plugins.lookup.release import LookupModule
from ansible_collections.outerloop.docker.plugins.module_utils._domain.release import build_manifest, manifest_text

API = "sha256:" + "a1" * 32
COMPOSE = "services:\n  api:\n    build: .\n    image: sample/api:dev\n  redis:\n    image: redis:7\n"


@pytest.fixture
def manifest():
    return build_manifest(
        application="sample-app",
        version="1.0.0-rc.1+build.5",
        source_repository="git@git.example.com:team/sample-app.git",
        commit="0123456789abcdef0123456789abcdef01234567",
        build_number="5",
        build_host="build1",
        created="2026-11-26T13:00:00+01:00",
        tests={"suites": {"unit": {"passed": True, "tests": 1, "failures": 0}}},
        services={"api": {"repository": "reg1:5000/sample/api", "digest": API}},
        compose_file="compose.yaml",
        compose_content=COMPOSE,
    )


FILTERS = FilterModule().filters()


def test_release_images(manifest):
    assert FILTERS["release_images"](manifest) == {"api": f"reg1:5000/sample/api@{API}"}


def test_pinned_compose(manifest):
    data = yaml.safe_load(FILTERS["pinned_compose"](manifest))
    assert data["services"] == {"api": {"image": f"reg1:5000/sample/api@{API}"}, "redis": {"image": "redis:7"}}


def test_release_errors(manifest):
    assert FILTERS["release_errors"](manifest) == []
    manifest["services"]["api"]["tags"] = ["latest"]
    assert FILTERS["release_errors"](manifest)[0].startswith("digest mismatch")
    assert FILTERS["release_errors"]("not a manifest") == ["a release manifest is a JSON object, not str"]


@pytest.mark.parametrize("name", ["release_images", "pinned_compose"])
def test_filters_refuse_an_invalid_manifest(manifest, name):
    manifest["version"] = "1.0"
    with pytest.raises(AnsibleError, match=f"release manifest given to {name} is not valid .*SemVer"):
        FILTERS[name](manifest)


def test_lookup_reads_and_validates(manifest, tmp_path):
    path = tmp_path / "release.json"
    path.write_text(manifest_text(manifest))
    lookup = LookupModule(loader=DataLoader())
    assert lookup.run([str(path)], variables={}) == [manifest]

    edited = json.loads(path.read_text())
    edited["services"]["api"]["digest"] = "sha256:" + "b2" * 32
    path.write_text(json.dumps(edited))
    with pytest.raises(AnsibleError, match=f"release manifest {path} is not valid .*digest mismatch"):
        lookup.run([str(path)], variables={})
    with pytest.raises(
        AnsibleError, match=r"release manifest '/nonexistent/release\.json' not found on the controller"
    ):
        lookup.run(["/nonexistent/release.json"], variables={})
