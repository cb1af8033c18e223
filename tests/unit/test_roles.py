"""Every role documents exactly the variables it defaults, with the role's prefix."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists())


def test_every_role_has_an_argument_spec():
    assert sorted(p.name for p in (ROOT / "roles").iterdir() if p.is_dir()) == ROLES


@pytest.mark.parametrize("role", ROLES)
def test_argument_spec_keys_equal_defaults_keys(role):
    spec = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    options = spec["argument_specs"]["main"]["options"]
    defaults = yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text()) or {}
    required = {name for name, opt in options.items() if opt.get("required")}
    assert set(options) - required == set(defaults), "argument_specs.yml and defaults/main.yml disagree"
    assert not required & set(defaults), "a required option must not have a default"


@pytest.mark.parametrize("role", ROLES)
def test_variables_carry_the_role_prefix(role):
    spec = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    assert [name for name in spec["argument_specs"]["main"]["options"] if not name.startswith(f"{role}_")] == []


@pytest.mark.parametrize("role", ROLES)
def test_documented_defaults_match_defaults_file(role):
    spec = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    defaults = yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text()) or {}
    options = spec["argument_specs"]["main"]["options"]
    mismatched = [k for k, v in defaults.items() if "default" in options[k] and options[k]["default"] != v]
    assert mismatched == []
