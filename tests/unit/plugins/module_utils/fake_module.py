"""A stand-in for AnsibleModule in unit tests of a module's run function: it records the result."""

from typing import ClassVar


class Exited(Exception):
    """Raised by exit_json and fail_json, as AnsibleModule ends the process."""


class FakeModule:
    """Subclasses set DEFAULTS, the module's parameters as its argument spec would fill them."""

    DEFAULTS: ClassVar[dict] = {}

    def __init__(self, check_mode=False, diff=False, **params):
        self.params = {**self.DEFAULTS, **params}
        self.check_mode = check_mode
        self._diff = diff
        self.no_log_values = set()
        self.failed = False
        self.result = None

    def exit_json(self, **result):
        self.result = result
        raise Exited()

    def fail_json(self, **result):
        self.failed = True
        self.result = result
        raise Exited()
