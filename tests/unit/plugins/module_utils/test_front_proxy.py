"""The front proxy's pure parts: the proxy option checked, the project's HAProxy file, the master CLI read, and the
switch's plan (which containers stay, which go, how many start), the checks sent to one container, the compose file
that takes the published ports away."""

import pytest
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.compose_switch import (
    CONFIG_HASH,
    check_proxied,
    container_address,
    direct_checks,
    parse_hashes,
    plan_services,
    proxy_compose_text,
    published_ports,
    replicas_of,
    servers_of,
)
from ansible_collections.outerloop.docker.plugins.module_utils._platforms.front_proxy import (
    ProxyError,
    bound_ports,
    parse_show_proc,
    project_config,
    proxy_settings,
)
from ansible_collections.outerloop.docker.plugins.module_utils._primitives.compose_yaml import load_compose

API = {"port": 8080, "target": 8080, "health_path": "/healthz", "strategy": "rolling"}


# --------------------------------------------------------------------------- settings


def test_no_services_means_no_proxy():
    assert proxy_settings(None) is None
    assert proxy_settings({}) is None
    assert proxy_settings({"services": {}, "drain_timeout": 5}) is None


def test_settings_are_completed_with_defaults():
    settings = proxy_settings({"services": {"api": {"port": "8080"}, "db": {"port": 5432, "strategy": "recreate"}}})
    assert settings["services"]["api"] == {"port": 8080, "target": 8080, "health_path": None, "strategy": "rolling"}
    assert settings["services"]["db"]["strategy"] == "recreate"
    assert settings["drain_timeout"] == 30 and settings["container"] == "outerloop-proxy"
    assert settings["config_dir"] == "/etc/outerloop/proxy" and settings["runtime_dir"] == "/var/lib/outerloop/proxy"


@pytest.mark.parametrize(
    ("services", "words"),
    [
        ({"api": {}}, "proxy.services.api.port is required"),
        ({"api": {"port": 0}}, "proxy.services.api.port must be a port number"),
        ({"api": {"port": True}}, "port must be a port number"),
        ({"api": {"port": 80, "target": "x"}}, "proxy.services.api.target must be a port number"),
        ({"api": {"port": 80, "strategy": "blue-green"}}, "strategy must be one of rolling, recreate"),
        ({"api": {"port": 80, "health_path": "healthz"}}, "health_path must be a path starting with /"),
        ({"api": {"port": 80, "hosts": ["a"]}}, "unknown key(s) hosts"),
        ({"api": {"port": 80}, "web": {"port": 80}}, "api and web both want the public port 80"),
        ({"a b": {"port": 80}}, "is not a Compose service name"),
    ],
)
def test_bad_settings_are_refused_naming_the_input(services, words):
    with pytest.raises(ProxyError, match=None) as exc:
        proxy_settings({"services": services})
    assert words in str(exc.value)


# --------------------------------------------------------------------------- the project's file


def test_project_config_names_each_server_and_checks_the_health_path():
    text = project_config("shop", {"api": API}, {"api": [("shop-api-2", "172.18.0.5", 8080)]})
    assert "frontend shop.api\n    bind :8080\n    default_backend shop.api\n" in text
    assert "backend shop.api\n" in text
    assert "    http-check send meth GET uri /healthz\n" in text
    assert text.endswith("    server shop-api-2 172.18.0.5:8080\n")
    assert bound_ports(text) == {8080}


def test_project_config_depends_only_on_settings_and_servers():
    a = project_config("shop", {"api": API}, {"api": [("b", "10.0.0.2", 8080), ("a", "10.0.0.1", 8080)]})
    b = project_config("shop", {"api": API}, {"api": [("a", "10.0.0.1", 8080), ("b", "10.0.0.2", 8080)]})
    assert a == b
    assert a != project_config("shop", {"api": API}, {"api": [("a", "10.0.0.1", 8080)]})


def test_project_config_without_health_path_checks_tcp_only():
    text = project_config("shop", {"api": {**API, "health_path": None}}, {"api": []})
    assert "httpchk" not in text and "default-server check" in text and "    server " not in text


SHOW_PROC = """#<PID>          <type>          <reloads>       <uptime>        <version>
1               master          3 [failed: 0]   0d00h10m15s     2.6.12-1+deb12u3
# workers
24              worker          0               0d00h00m01s     2.6.12-1+deb12u3
# old workers
18              worker          1               0d00h00m09s     2.6.12-1+deb12u3
# programs
"""


def test_show_proc_gives_reloads_workers_and_old_workers():
    assert parse_show_proc(SHOW_PROC) == {"reloads": 3, "workers": [24], "old_workers": [18]}
    assert parse_show_proc("") == {"reloads": None, "workers": [], "old_workers": []}


# --------------------------------------------------------------------------- the switch's plan


def container(cid, hash_, status="running", *, name=None, ports=None, ip="172.18.0.9"):
    return {
        "Id": cid,
        "Name": "/" + (name or cid),
        "Config": {"Labels": {CONFIG_HASH: hash_}},
        "State": {"Status": status},
        "HostConfig": {"PortBindings": ports or {}},
        "NetworkSettings": {"Networks": {"shop_default": {"IPAddress": ip}}},
    }


def test_plan_rolls_a_running_service_whose_config_changed():
    plan = plan_services({"api": [container("old1", "h1")]}, {"api": "h2"}, {"api": API}, {"api": 2})
    assert plan["api"] == {"strategy": "rolling", "keep": [], "old": ["old1"], "start": 2, "roll": True}


def test_plan_keeps_containers_of_the_release_and_starts_the_rest():
    infos = [container("new1", "h2"), container("old1", "h1")]
    plan = plan_services({"api": infos}, {"api": "h2"}, {"api": API}, {"api": 2})
    assert plan["api"]["keep"] == ["new1"] and plan["api"]["old"] == ["old1"] and plan["api"]["start"] == 1


def test_plan_does_not_roll_an_unchanged_a_stopped_or_a_recreate_service():
    same = plan_services({"api": [container("c1", "h1")]}, {"api": "h1"}, {"api": API}, {"api": 1})
    assert same["api"]["roll"] is False and same["api"]["old"] == []
    stopped = plan_services({"api": [container("c1", "h1", "exited")]}, {"api": "h2"}, {"api": API}, {"api": 1})
    assert stopped["api"]["roll"] is False
    first = plan_services({}, {"api": "h1"}, {"api": API}, {"api": 1})
    assert first["api"]["roll"] is False
    recreate = {"api": {**API, "strategy": "recreate"}}
    assert plan_services({"api": [container("c1", "h1")]}, {"api": "h2"}, recreate, {"api": 1})["api"]["roll"] is False


def test_replicas_come_from_scale_or_deploy_replicas():
    assert replicas_of({}) == 1
    assert replicas_of({"deploy": {"replicas": 3}}) == 3
    assert replicas_of({"scale": 2, "deploy": {"replicas": 3}}) == 2


def test_parse_hashes():
    assert parse_hashes("api 1234\nworker abcd\n") == {"api": "1234", "worker": "abcd"}


def test_proxied_services_must_be_able_to_run_side_by_side():
    config = {"services": {"api": {"container_name": "api"}, "db": {"container_name": "db"}}}
    services = {"api": API, "db": {**API, "port": 5432, "strategy": "recreate"}, "web": {**API, "port": 80}}
    problems = check_proxied(config, services, "prod1")
    assert any("service api sets container_name" in p for p in problems)
    assert any("web is not a service" in p for p in problems)
    assert not any("service db" in p for p in problems)  # recreate may keep its name
    assert all(p.endswith("(on prod1)") for p in problems)


def test_addresses_servers_and_published_ports_of_containers():
    info = container("c1", "h", name="shop-api-1", ports={"8080/tcp": [{"HostIp": "", "HostPort": "8080"}]})
    assert container_address(info, "shop") == "172.18.0.9"
    assert container_address({"NetworkSettings": {"Networks": {"x": {"IPAddress": ""}}}}, "shop") is None
    assert servers_of([info, container("c2", "h", "exited")], "shop", 8080) == [("shop-api-1", "172.18.0.9", 8080)]
    assert published_ports(info) == {8080}


def test_direct_checks_aim_the_smoke_checks_of_the_public_port_at_the_container():
    checks = [
        {"url": "http://127.0.0.1:8080/version", "status": 200, "contains": "version", "retries": 5, "delay": 2},
        {"url": "http://localhost:8080/healthz?deep=1", "contains": None},
        {"url": "http://127.0.0.1:9090/metrics"},
        {"url": "https://example.com:8080/"},
    ]
    found = direct_checks(checks, API, "172.18.0.5")
    assert [c["url"] for c in found] == [
        "http://172.18.0.5:8080/healthz",
        "http://172.18.0.5:8080/version",
        "http://172.18.0.5:8080/healthz?deep=1",
    ]
    assert found[1]["contains"] == "version" and "contains" not in found[2]
    assert direct_checks([], {**API, "health_path": None, "target": 8000}, "10.0.0.1") == []


def test_proxy_compose_text_resets_the_ports_of_the_proxied_services():
    assert proxy_compose_text(None) is None
    text = proxy_compose_text({"web": API, "api": API})
    assert text.index('"api"') < text.index('"web"')
    data = load_compose(text)
    assert set(data["services"]) == {"api", "web"}
    assert "ports: !reset []" in text
