"""The plugins' import contract ([tool.importlinter] in pyproject.toml) holds, and it bites.

The layers of plugins/module_utils, top-down: module bodies (``_<module>.py``), platforms, domain,
primitives. A body never imports another and is imported by its module alone; the info modules never
reach a deployer nor the registry's push client; the swarm's code and the Compose host's never import
each other. lint-imports checks the imports of the code itself (every one, indirect ones included).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def lint_imports(collection_parent: Path) -> subprocess.CompletedProcess:
    """lint-imports over the collection found at COLLECTION_PARENT/ansible_collections/outerloop/docker."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=collection_parent,
        env={**os.environ, "PYTHONPATH": str(collection_parent), "COLUMNS": "400"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_import_contract_holds():
    # conftest.py links this tree as .lab/pythonpath/ansible_collections/outerloop/docker.
    run = lint_imports(ROOT / ".lab" / "pythonpath")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_every_module_has_one_body_and_every_body_is_in_the_contract():
    module_utils = ROOT / "plugins" / "module_utils"
    bodies = {path.stem for path in module_utils.glob("_*.py")}
    modules = {path.stem for path in (ROOT / "plugins" / "modules").glob("*.py")}
    assert bodies == {f"_{name}" for name in modules}, "one _<module>.py body per module, and nothing else at the top"
    layers = next(c for c in CONFIG["contracts"] if c["name"].startswith("module_utils in layers"))["layers"]
    assert {name.strip() for name in layers[0].split("|")} == bodies
    assert {path.name for path in module_utils.iterdir() if path.is_dir() and path.name != "__pycache__"} == {
        "_platforms",
        "_domain",
        "_primitives",
    }
    protected = {c["protected_modules"][0].rpartition(".")[2] for c in CONFIG["contracts"] if c["type"] == "protected"}
    assert protected == bodies


def test_the_contract_breaks_on_a_body_that_imports_a_deployer(tmp_path):
    copy = tmp_path / "ansible_collections" / "outerloop" / "docker"
    shutil.copytree(ROOT / "plugins", copy / "plugins", ignore=shutil.ignore_patterns("__pycache__"))
    body = copy / "plugins" / "module_utils" / "_stack_info.py"
    body.write_text(
        body.read_text()
        + "\nfrom ansible_collections.outerloop.docker.plugins.module_utils._platforms import swarm_deployer  # noqa\n"
    )
    run = lint_imports(tmp_path)
    assert run.returncode != 0
    assert "the info modules only read: no push or retag client, no deployer, even indirectly BROKEN" in run.stdout
    assert f"Contracts: {len(CONFIG['contracts']) - 1} kept, 1 broken." in run.stdout
    module_utils = "ansible_collections.outerloop.docker.plugins.module_utils"
    assert f"{module_utils}._stack_info -> {module_utils}._platforms.swarm_deployer" in run.stdout
