"""The ci role's own logic, templated as Ansible templates it (no host, no Docker): the address of the
functional tests' per-run port, and the registry preflight's message for each reason registry_login
(state verified) gives."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROLE = Path(__file__).resolve().parents[2] / "roles" / "ci"


def trusted(value):
    """Role files as Ansible loads them: their strings are templates."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {key: trusted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [trusted(item) for item in value]
    return value


def render(expression: str, **facts):
    variables = {
        **trusted(yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())),
        **trusted(yaml.safe_load((ROLE / "vars" / "main.yml").read_text())),
        "inventory_hostname": "build1",
        "ci_application": "shop",
        "ci_version": "1.4.0",
        "ci_registry": "reg1:5000",
        **facts,
    }
    return Templar(loader=DataLoader(), variables=variables).template(trust_as_template(expression))


@pytest.mark.parametrize(
    ("printed", "base_url"),
    [
        (["0.0.0.0:32768"], "http://127.0.0.1:32768"),  # published on every address: the loopback
        (["[::]:32769"], "http://127.0.0.1:32769"),
        (["127.0.0.1:40000"], "http://127.0.0.1:40000"),  # published on one address: that one
        (["[::1]:40001"], "http://[::1]:40001"),
        (["some warning", "0.0.0.0:5"], "http://127.0.0.1:5"),
    ],
)
def test_the_functional_tests_get_the_port_this_run_published(printed, base_url):
    port = {"rc": 0, "stdout_lines": printed, "stderr_lines": []}
    facts = {"ci_functional_service": "api", "ci_functional_port": 8080, "_ci_port": port}
    assert render("{{ _ci_base_url }}", **facts) == base_url
    assert render("{{ _ci_published_port }}", **facts) == base_url.rsplit(":", 1)[1]
    assert render("{{ _ci_port_found }}", **facts) is True


def test_a_port_compose_did_not_publish_is_not_found():
    port = {"rc": 1, "stdout_lines": [], "stderr_lines": ["no port 8080/tcp for container ci-shop-3-api-1"]}
    assert render("{{ _ci_port_found }}", ci_functional_service="api", ci_functional_port=8080, _ci_port=port) is False


def test_without_a_functional_service_nothing_is_looked_up():
    assert render("{{ _ci_port_found }}", ci_functional_service="", _ci_port={"skipped": True}) is True


def problem(reason: str, **facts) -> str:
    check = {"msg": "registry reg1:5000 (from host build1) said so.", "reason": reason}
    return render("{{ _ci_registry_problem }}", _ci_registry_check=check, **facts)


def test_a_rejected_stored_login_says_how_to_store_the_current_one():
    text = problem("credentials")
    assert text.startswith(
        "Registry preflight on build1 for shop 1.4.0 (the login stored for ci_registry_user builder on build1, "
        "pushing to reg1:5000): registry reg1:5000 (from host build1) said so. "
    )
    assert "--tags build_agent --limit build1" in text
    assert text.endswith("Nothing was built or pushed.")
    assert "\n" not in text


def test_a_rejected_password_option_says_to_set_it():
    text = problem("credentials", ci_registry_username="ci", ci_registry_password="secret-0815")
    assert "(ci_registry_username ci with ci_registry_password, pushing to reg1:5000)" in text
    assert "Set ci_registry_password to the current password of ci" in text
    assert "secret-0815" not in text


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        (
            "login_required",
            ["builder on build1 has no login stored for reg1:5000", "--tags build_agent --limit build1"],
        ),
        ("unreachable", ["Check ci_registry (reg1:5000)", "build1 reaches it"]),
        ("tls", ["build1 does not trust the certificate of reg1:5000", "/etc/docker/certs.d/reg1:5000/ca.crt"]),
        ("input", ["Check ci_registry, ci_registry_user and the credentials."]),
    ],
)
def test_each_reason_has_its_own_next_step(reason, words):
    text = problem(reason)
    for word in words:
        assert word in text
    assert text.endswith("Nothing was built or pushed.")
