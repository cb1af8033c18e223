"""JMESPath queries over the reports (plugin_utils._query): the report modules' option query, the status's
deploy_status_query (filter jmespath_query). Evaluated on the controller."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.outerloop.docker.plugins.filter.jmespath_query import jmespath_query
from ansible_collections.outerloop.docker.plugins.module_utils._domain.report import REPORT_ARG_SPEC
from ansible_collections.outerloop.docker.plugins.plugin_utils._query import (
    QueryError,
    apply_query,
    compile_query,
    search,
)

WHERE = "outerloop.docker.deployment_info on qa1"
# A deployment_info result, in short.
RESULT = {
    "changed": False,
    "deployment": {
        "project": "sample-app",
        "release_id": "sample-app-1.4.0-b42-3f2a9c1d0b8e",
        "healthy": True,
        "services": {
            "api": {"digest": "sha256:aaa", "running": 1},
            "worker": {"digest": "sha256:bbb", "running": 2},
        },
    },
}
# A status document (docs/status.md), in short.
STATUS = {
    "environment": "qa",
    "hosts": [
        {"host": "qa1", "healthy": True, "release_id": "r1"},
        {"host": "qa2", "healthy": False, "release_id": "r0"},
    ],
    "ok": True,
}


def test_a_query_picks_out_of_the_result():
    query = "deployment.{release: release_id, healthy: healthy, digests: services.*.digest}"
    assert apply_query(query, RESULT, WHERE) == {
        "release": "sample-app-1.4.0-b42-3f2a9c1d0b8e",
        "healthy": True,
        "digests": ["sha256:aaa", "sha256:bbb"],
    }


def test_a_query_that_selects_nothing_is_null():
    assert apply_query("deployment.nothing_here", RESULT, WHERE) is None


def test_compiled_once_searched_many():
    compiled = compile_query("deployment.services.api.digest", WHERE)
    assert search(compiled, "deployment.services.api.digest", RESULT, WHERE) == "sha256:aaa"
    assert search(compiled, "deployment.services.api.digest", {"deployment": {}}, WHERE) is None


def test_an_invalid_expression_names_the_expression_the_host_and_the_jmespath_error():
    with pytest.raises(QueryError) as caught:
        compile_query("deployment.services[", WHERE)
    message = str(caught.value)
    assert message.startswith(
        "query 'deployment.services[' of outerloop.docker.deployment_info on qa1 is not a valid JMESPath expression: "
    )
    assert "Incomplete expression" in message
    assert "\n" not in message
    assert "https://jmespath.org/specification.html" in message


@pytest.mark.parametrize("expression", ["", "   ", None, 3])
def test_an_empty_or_non_string_expression_is_refused(expression):
    with pytest.raises(QueryError, match="must be a JMESPath expression"):
        compile_query(expression, WHERE)


def test_an_expression_that_fails_on_the_result_says_so():
    with pytest.raises(QueryError) as caught:
        apply_query("length(deployment.healthy)", RESULT, WHERE)
    assert "query 'length(deployment.healthy)' of outerloop.docker.deployment_info on qa1 failed on the result" in str(
        caught.value
    )
    assert "invalid type for value: True" in str(caught.value)


def test_status_filter_picks_the_unhealthy_hosts():
    assert jmespath_query(STATUS, "hosts[?!healthy].host", where="the status of qa") == ["qa2"]


def test_status_filter_error_names_the_expression_and_where():
    with pytest.raises(AnsibleFilterError) as caught:
        jmespath_query(STATUS, "hosts[?", where="the status of qa (deploy_status_query, on the controller for qa1)")
    assert "query 'hosts[?' of the status of qa (deploy_status_query, on the controller for qa1)" in str(caught.value)


def test_report_modules_accept_query():
    assert REPORT_ARG_SPEC["query"] == {"type": "str"}
