"""Every plugin's DOCUMENTATION, EXAMPLES and RETURN is YAML that parses: a stray colon at the end of a line of
a description breaks ansible-doc and the sanity test, and this finds it in a second."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = sorted(p for p in (ROOT / "plugins").glob("*/*.py") if p.name != "__init__.py")
BLOCKS = ("DOCUMENTATION", "EXAMPLES", "RETURN")


def doc_blocks(path: Path) -> dict[str, str]:
    blocks = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id in BLOCKS:
            blocks[node.targets[0].id] = node.value.value
    return blocks


@pytest.mark.parametrize("path", PLUGINS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_doc_blocks_parse_as_yaml(path):
    for name, text in doc_blocks(path).items():
        try:
            yaml.safe_load(text)
        except yaml.YAMLError as exc:
            pytest.fail(f"{path.relative_to(ROOT)} {name}: {exc}")


def test_the_modules_have_their_three_blocks():
    modules = [p for p in PLUGINS if p.parent.name == "modules"]
    assert modules
    for path in modules:
        assert set(doc_blocks(path)) == set(BLOCKS), path
