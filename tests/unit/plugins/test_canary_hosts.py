"""The canary_hosts filter: which hosts deploy first, from a count or a list of names."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.outerloop.docker.plugins.filter.canary_hosts import canary_hosts

HOSTS = ["prod1", "prod2", "prod3"]


@pytest.mark.parametrize(
    ("canary", "picked"),
    [
        (0, []),
        (1, ["prod1"]),
        (2, ["prod1", "prod2"]),
        (5, HOSTS),
        ("1", ["prod1"]),
        ("0", []),
        (["prod3"], ["prod3"]),
        (["prod3", "prod1"], ["prod1", "prod3"]),
        ("prod2, prod3", ["prod2", "prod3"]),
        ([], []),
    ],
)
def test_a_count_takes_the_first_hosts_and_a_list_the_named_ones_in_run_order(canary, picked):
    assert canary_hosts(HOSTS, canary) == picked


def test_a_host_not_in_the_run_is_refused_by_name():
    with pytest.raises(AnsibleFilterError, match=r"prod9 is not among the hosts of this run \(prod1, prod2, prod3\)"):
        canary_hosts(HOSTS, ["prod1", "prod9"])


@pytest.mark.parametrize("canary", [-1, True, None, {"prod1": 1}, 1.5])
def test_what_is_neither_a_count_nor_a_list_is_refused(canary):
    with pytest.raises(AnsibleFilterError, match="deploy_canary_hosts"):
        canary_hosts(HOSTS, canary)
