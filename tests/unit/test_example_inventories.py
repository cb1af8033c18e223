"""examples/inventories: the kit of inventories for your own hosts (infra, qa, staging, production).

Each inventory is listed with `ansible-inventory -i DIR --list`, as a user's first check would do; its
vault.yml files stay unencrypted placeholders in the repository, so no vault password is needed. The
tests hold the kit to what makes it a starting point for real hosts: the groups the playbooks use, the
promotion order, no setting of the embedded lab, SSH host keys checked, Docker from Docker's apt
repository, public images, and every secret taken from a vault_* variable of a vault.yml file.
"""

import ipaddress
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "examples" / "inventories"
BIN = Path(sys.executable).parent
ENVIRONMENTS = ("qa", "staging", "production")
INVENTORIES = ("infra", *ENVIRONMENTS)
# The promotion order: each environment and the one a release must have passed before it.
REQUIRES = {"qa": "", "staging": "qa", "production": "staging"}
DOCUMENTATION_NET = ipaddress.ip_network("192.0.2.0/24")  # RFC 5737, TEST-NET-1
# Variable names (at any depth) whose values are secrets: they must come from Vault.
SECRET_NAME = re.compile(r"(password|passwd|token|secrets?|private_key)$", re.IGNORECASE)
REFERENCE = re.compile(r"^\{\{\s*([A-Za-z_]\w*)\s*\}\}$")
ROLE_DEFAULTS = {
    role: yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text())
    for role in ("docker_host", "front_proxy")
}


def kit_files():
    return sorted(p for p in KIT.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml"))


def vault_files():
    return sorted(p for p in kit_files() if p.name == "vault.yml")


def list_inventory(name, tmp_path):
    """ansible-inventory --list of one inventory of the kit, outside this checkout's ansible.cfg."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    # A source that no inventory plugin can parse is an error, not a warning and an empty inventory.
    env["ANSIBLE_INVENTORY_UNPARSED_FAILED"] = "true"
    env["ANSIBLE_LOCAL_TEMP"] = str(tmp_path)
    env["HOME"] = str(tmp_path)
    result = subprocess.run(
        [str(BIN / "ansible-inventory"), "-i", str(KIT / name), "--list"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"ansible-inventory -i {name} failed:\n{result.stderr}"
    assert "[WARNING]" not in result.stderr, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def listed(tmp_path_factory):
    return {name: list_inventory(name, tmp_path_factory.mktemp(name)) for name in INVENTORIES}


def hosts_of(listing, group):
    """Every host of a group, its child groups' included."""
    entry = listing.get(group, {})
    found = set(entry.get("hosts", []))
    for child in entry.get("children", []):
        found |= hosts_of(listing, child)
    return found


def hostvars(listing):
    return listing["_meta"]["hostvars"]


def strings(value):
    """Every string in a YAML value, keys included."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, str):
        yield value


def vault_source(value, variables, seen=()):
    """The vault_* variable a secret's value is taken from (through plain variables), else None."""
    match = REFERENCE.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    name = match.group(1)
    if name.startswith("vault_"):
        return name if name in variables else None
    if name in seen or name not in variables:
        return None
    return vault_source(variables[name], variables, (*seen, name))


def secret_values(value, path=""):
    """(path, value) of every secret, found by its variable's or key's name; the vault_* variables aside."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not path and str(key).startswith("vault_"):
                continue
            where = f"{path}.{key}" if path else str(key)
            # deploy_notify: a webhook URL (Slack, Teams) and its headers (Authorization) are secrets.
            if SECRET_NAME.search(str(key)) or (path.startswith("deploy_notify[") and key in ("url", "headers")):
                yield from leaves(item, where)
            else:
                yield from secret_values(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from secret_values(item, f"{path}[{index}]")


def leaves(value, path):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, f"{path}[{index}]")
    else:
        yield path, value


@pytest.mark.parametrize("name", INVENTORIES)
def test_each_inventory_parses_and_has_hosts(listed, name):
    assert hosts_of(listed[name], "all"), f"{name}: no host"
    assert set(hostvars(listed[name])) == hosts_of(listed[name], "all")


def test_infra_has_one_registry_and_build_hosts(listed):
    infra = listed["infra"]
    # provision.yml: hosts registry, then build_hosts; ci.yml: build_hosts[0]; the registry's CA and address
    # are read from groups['registry'][0].
    assert len(hosts_of(infra, "registry")) == 1
    assert hosts_of(infra, "build_hosts")
    assert not hosts_of(infra, "registry") & hosts_of(infra, "build_hosts")
    # Environments have inventories of their own.
    assert not hosts_of(infra, "deploy_hosts") | hosts_of(infra, "docker_hosts")


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_environment_groups(listed, environment):
    listing = listed[environment]
    hosts = hosts_of(listing, environment)
    assert hosts, f"no host in the group {environment}"
    # deploy, promote, rollback, status: deploy_hosts; provision: docker_hosts (docker_host role) and
    # front_proxies (front_proxy role). The environment's group_vars/<env> apply to the group <env>.
    assert hosts_of(listing, "deploy_hosts") == hosts
    assert hosts_of(listing, "docker_hosts") == hosts
    assert hosts_of(listing, "front_proxies") == hosts
    assert not hosts_of(listing, "registry") | hosts_of(listing, "build_hosts")
    for host in hosts:
        assert hostvars(listing)[host]["deploy_environment"] == environment, host


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_promotion_order(listed, environment):
    for host, variables in hostvars(listed[environment]).items():
        assert variables["deploy_requires_environment"] == REQUIRES[environment], host


def test_production_goes_canary_first(listed):
    production = listed["production"]
    hosts = hosts_of(production, "production")
    assert len(hosts) >= 2, "production needs a canary and hosts after it"
    for host in hosts:
        canary = hostvars(production)[host]["deploy_canary_hosts"]
        count = len(canary) if isinstance(canary, list) else int(canary)
        assert 0 < count < len(hosts), host
        assert int(hostvars(production)[host]["deploy_canary_soak"]) > 0, host


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_front_proxy_is_the_official_image_pulled(listed, environment):
    for host, variables in hostvars(listed[environment]).items():
        assert variables["deploy_proxy"]["services"], host
        image = variables.get("front_proxy_image", ROLE_DEFAULTS["front_proxy"]["front_proxy_image"])
        assert image.split("@")[0] == ROLE_DEFAULTS["front_proxy"]["front_proxy_image"], host
        assert variables.get("front_proxy_image_archive", "") == "", f"{host}: loaded from an archive, not pulled"


@pytest.mark.parametrize("name", INVENTORIES)
def test_docker_and_compose_from_dockers_apt_repository(listed, name):
    listing = listed[name]
    # The hosts the docker_host role provisions: docker_hosts, and build_hosts through build_agent.
    provisioned = hosts_of(listing, "docker_hosts") | hosts_of(listing, "build_hosts")
    assert provisioned
    defaults = ROLE_DEFAULTS["docker_host"]
    for host in provisioned:
        variables = hostvars(listing)[host]
        assert variables.get("docker_host_package_source", defaults["docker_host_package_source"]) == "docker", host
        assert variables.get("docker_host_compose_source", defaults["docker_host_compose_source"]) == "package", host
        assert variables.get("docker_host_compose_package", "docker-compose-plugin") == "docker-compose-plugin", host
        assert "docker_host_compose_file" not in variables, host
        assert "docker-compose-plugin" in defaults["docker_host_docker_packages"]


@pytest.mark.parametrize("name", INVENTORIES)
def test_ssh_host_keys_are_checked(listed, name):
    for host, variables in hostvars(listed[name]).items():
        assert variables.get("ansible_host_key_checking") is True, host
        options = " ".join(str(variables.get(key, "")) for key in ("ansible_ssh_common_args", "ansible_ssh_extra_args"))
        assert re.search(r"StrictHostKeyChecking=yes\b", options), host
        assert not re.search(r"StrictHostKeyChecking=(no|off)\b", options, re.IGNORECASE), host
        assert "UserKnownHostsFile=/dev/null" not in options, host


@pytest.mark.parametrize("path", kit_files(), ids=lambda p: str(p.relative_to(KIT)))
def test_no_lab_settings_nor_lab_images(path):
    """Neither a lab_* variable, nor a path into .lab, nor a lab image, nor SSH checks off, in any value."""
    data = yaml.safe_load(path.read_text())
    for text in strings(data):
        assert not re.search(r"\blab_\w+", text), f"{path}: {text!r}"
        assert not re.search(r"(^|[/'\"\s])\.lab\b", text), f"{path}: {text!r}"
        assert "outerloop-lab" not in text, f"{path}: {text!r}"
        assert not re.search(r"StrictHostKeyChecking=(no|off)\b", text, re.IGNORECASE), f"{path}: {text!r}"
        assert "/dev/null" not in text, f"{path}: {text!r}"


@pytest.mark.parametrize("name", INVENTORIES)
def test_hosts_are_examples_from_documentation_ranges(listed, name):
    for host, variables in hostvars(listed[name]).items():
        assert host.endswith(".example.internal"), host
        assert ipaddress.ip_address(variables["ansible_host"]) in DOCUMENTATION_NET, host


@pytest.mark.parametrize("path", vault_files(), ids=lambda p: str(p.relative_to(KIT)))
def test_vault_files_are_placeholders_to_encrypt(path):
    text = path.read_text()
    assert "ansible-vault encrypt" in text, f"{path}: no word on encrypting it"
    assert not text.startswith("$ANSIBLE_VAULT"), f"{path}: encrypted in the repository"
    data = yaml.safe_load(text)
    assert data, f"{path}: empty"
    assert [key for key in data if not key.startswith("vault_")] == [], path
    # No real secret in the repository: every value is an empty placeholder.
    assert {key: value for key, value in data.items() if value != ""} == {}, path


def test_vault_variables_are_defined_in_vault_files_only():
    for path in kit_files():
        if path.name != "vault.yml":
            data = yaml.safe_load(path.read_text()) or {}
            assert [key for key in data if key.startswith("vault_")] == [], path


@pytest.mark.parametrize("name", INVENTORIES)
def test_every_secret_comes_from_vault(listed, name):
    for host, variables in hostvars(listed[name]).items():
        for where, value in secret_values(variables):
            assert vault_source(value, variables), f"{name} {host}: {where} = {value!r} is not from a vault_* variable"
        # ci_registry_password: unset (the build user's stored login pushes) or from Vault.
        if "ci_registry_password" in variables:
            assert vault_source(variables["ci_registry_password"], variables), host


def test_the_secrets_a_real_setup_needs_are_set_from_vault(listed):
    infra = listed["infra"]
    registry = hostvars(infra)[next(iter(hosts_of(infra, "registry")))]
    assert {vault_source(user["password"], registry) for user in registry["registry_users"]} == {
        "vault_registry_ci_password",
        "vault_registry_deploy_password",
    }
    for host in hosts_of(infra, "build_hosts"):
        variables = hostvars(infra)[host]
        logins = variables["build_agent_registry_logins"]
        assert [vault_source(login["password"], variables) for login in logins] == ["vault_registry_ci_password"]
    for environment in ENVIRONMENTS:
        for host, variables in hostvars(listed[environment]).items():
            logins = variables["docker_host_registry_logins"]
            assert [vault_source(login["password"], variables) for login in logins] == [
                "vault_registry_deploy_password"
            ], host
            assert variables["deploy_secrets"], host
            assert all(vault_source(value, variables) for value in variables["deploy_secrets"].values()), host
            # Webhook URLs are secrets: deploy_notify is built from a vault_* variable, with no URL of its own.
            notify = variables["deploy_notify"]
            assert isinstance(notify, str), f"{host}: deploy_notify names its URLs in plain text"
            assert re.search(r"\bvault_\w*url\b", notify), host
            assert "://" not in notify, host


def test_docs_secrets_names_every_secret_and_vault_variable_of_the_kit(listed):
    """docs/secrets.md lists what the kit's vault files hold and every secret variable the kit sets."""
    documented = set(re.findall(r"`([A-Za-z_]\w*)`", (ROOT / "docs" / "secrets.md").read_text()))
    in_vault = {key for path in vault_files() for key in yaml.safe_load(path.read_text())}
    secrets = {"registry_users", "build_agent_registry_logins", "docker_host_registry_logins", "deploy_notify"}
    for listing in listed.values():
        for variables in hostvars(listing).values():
            secrets |= {where.split(".")[0].split("[")[0] for where, _value in secret_values(variables)}
    assert sorted((in_vault | secrets) - documented) == []


def test_kit_readme_runs_the_playbooks_there_are():
    readme = (KIT / "README.md").read_text()
    named = set(re.findall(r"outerloop\.docker\.(\w+)", readme))
    assert {"provision", "ci", "deploy", "promote", "status", "rollback"} <= named
    assert sorted(name for name in named if not (ROOT / "playbooks" / f"{name}.yml").exists()) == []
    # It says where every vault file is, and how to encrypt them.
    for path in vault_files():
        assert str(path.relative_to(KIT)) in readme, path
    assert "ansible-vault encrypt" in readme
    assert "outerloop_release_path" in readme
