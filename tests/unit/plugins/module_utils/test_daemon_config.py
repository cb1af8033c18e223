"""daemon_config_errors: the settings dockerd would refuse are caught before they reach a host."""

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils._domain.daemon_config import daemon_config_errors

ROLE_DEFAULTS = {"log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"}, "live-restore": True}


def test_role_defaults_are_valid():
    assert daemon_config_errors(ROLE_DEFAULTS) == []


def test_realistic_settings_are_valid():
    config = {
        **ROLE_DEFAULTS,
        "insecure-registries": ["reg1:5000", "10.0.0.0/8"],
        "registry-mirrors": ["https://mirror.example.com"],
        "default-address-pools": [{"base": "10.200.0.0/16", "size": 24}],
        "features": {"buildkit": True},
        "log-level": "warn",
        "mtu": 1450,
    }
    assert daemon_config_errors(config) == []


def test_not_a_dict_names_the_variable():
    assert daemon_config_errors("log-driver: json-file", "docker_host_daemon_config") == [
        "docker_host_daemon_config must be a dictionary of daemon.json settings, got 'log-driver: json-file' (str)"
    ]


def test_number_in_log_opts_is_refused_with_a_hint():
    (error,) = daemon_config_errors({"log-opts": {"max-file": 3}}, "docker_host_daemon_config")
    assert error.startswith("docker_host_daemon_config['log-opts'] must be a dict of str")
    assert "quote numbers" in error


def test_unknown_key_is_refused():
    (error,) = daemon_config_errors({"live_restore": True})
    assert "daemon_config['live_restore']: unknown daemon.json key" in error


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("live-restore", "yes"),
        ("mtu", "1500"),
        ("mtu", True),
        ("dns", "8.8.8.8"),
        ("dns", [8]),
        ("storage-driver", ["overlay2"]),
        ("features", ["buildkit"]),
    ],
)
def test_wrong_types_are_refused(key, value):
    (error,) = daemon_config_errors({key: value})
    assert error.startswith(f"daemon_config['{key}'] must be a ")


def test_hosts_conflicts_with_the_packaged_unit():
    (error,) = daemon_config_errors({"hosts": ["tcp://0.0.0.0:2375"]})
    assert "-H flag" in error


def test_log_level_choices():
    assert daemon_config_errors({"log-level": "verbose"}) == [
        "daemon_config['log-level'] must be one of debug, info, warn, error, fatal, got 'verbose'"
    ]


def test_insecure_registry_with_scheme_is_refused():
    errors = daemon_config_errors({"insecure-registries": ["http://reg1:5000", "reg1:5000"]})
    assert errors == [
        "daemon_config['insecure-registries']: 'http://reg1:5000' is not HOST[:PORT] or a CIDR (no scheme, no path)"
    ]


def test_mirror_without_scheme_is_refused():
    assert len(daemon_config_errors({"registry-mirrors": ["mirror.example.com"]})) == 1


def test_address_pool_needs_base_and_size():
    errors = daemon_config_errors(
        {"default-address-pools": [{"base": "10.1.0.0/16"}, {"base": "10.2.0.0/16", "size": 24}]}
    )
    assert len(errors) == 1
    assert "each pool needs base" in errors[0]


def test_every_problem_is_reported_in_key_order():
    errors = daemon_config_errors({"zz": 1, "debug": "no", "aa": 2})
    assert [e.split(" ", maxsplit=1)[0].rstrip(":") for e in errors] == [
        "daemon_config['aa']",
        "daemon_config['debug']",
        "daemon_config['zz']",
    ]


@pytest.mark.parametrize("addr", ["0.0.0.0:9323", "127.0.0.1:9323", "[::1]:9323", "metrics.lab:9323"])
def test_metrics_addr_is_accepted(addr):
    assert daemon_config_errors({"metrics-addr": addr, "experimental": False}) == []


@pytest.mark.parametrize("addr", ["9323", "http://0.0.0.0:9323", "0.0.0.0:9323/metrics", ""])
def test_metrics_addr_must_be_host_and_port(addr):
    (error,) = daemon_config_errors({"metrics-addr": addr})
    assert "daemon_config['metrics-addr'] must be HOST:PORT" in error


def test_keys_of_current_engines_are_known():
    current = {"firewall-backend": "iptables", "allow-direct-routing": False, "host-gateway-ips": ["172.17.0.1"],
               "ip-forward-no-drop": False, "bridge-accept-fwmark": "0x1", "cluster-store-opts": {}}  # fmt: skip
    assert daemon_config_errors(current) == []
