"""meta/runtime.yml's action groups hold exactly the modules that take the group's options, so that
module_defaults for a group never hands a module an option it refuses."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
GROUP_FRAGMENTS = {"docker": "outerloop.docker.engine", "registry": "outerloop.docker.registry"}


def fragments(module: Path) -> list[str]:
    tree = ast.parse(module.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION":
            return yaml.safe_load(node.value.value).get("extends_documentation_fragment") or []
    raise AssertionError(f"{module} has no DOCUMENTATION")


def test_each_group_is_the_modules_documented_with_its_fragment():
    groups = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["action_groups"]
    modules = sorted((ROOT / "plugins" / "modules").glob("*.py"))
    for group, fragment in GROUP_FRAGMENTS.items():
        assert sorted(groups[group]) == sorted(m.stem for m in modules if fragment in fragments(m)), group
    assert set(groups) == set(GROUP_FRAGMENTS)
