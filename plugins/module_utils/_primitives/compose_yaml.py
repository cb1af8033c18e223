# -*- coding: utf-8 -*-
# Copyright (c) 2026 outerloop.docker contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Compose files as data, read and written the way Docker Compose's own YAML parser does.

``load_compose`` resolves plain scalars as Compose's Go parser (yaml.v3) does, not as YAML 1.1: ``22:22``
and ``yes`` stay strings, ``0755`` is octal, a key written twice is an error; Compose's own tags
(``!reset``, ``!override``) are kept as written. ``dump_compose`` writes the data back so that Compose
reads the same values. Errors are raised as ComposeFileError naming the file.
"""

from __future__ import annotations

import re
import traceback

try:
    import yaml

    HAS_YAML = True
    YAML_IMPORT_ERROR = None
except ImportError:
    HAS_YAML = False
    YAML_IMPORT_ERROR = traceback.format_exc()


class ComposeFileError(ValueError):
    """Text that is no compose file; the message names the file and says why."""


class Tagged:
    """A Compose-specific tag (!reset, !override) kept as written."""

    def __init__(self, tag, value):
        self.tag, self.value = tag, value


if HAS_YAML:

    class _ComposeLoader(yaml.SafeLoader):
        """Resolves plain scalars the way Compose's Go YAML parser (yaml.v3) does, not YAML 1.1's way.

        ``22:22`` stays a string (YAML 1.1 reads a base-60 number), ``yes``/``on`` stay strings, ``0755``
        is the octal number 493; duplicate keys are refused, as Compose does. One difference: a plain
        date stays a string (Compose reads a timestamp and refuses it where it wants a string), and is
        written quoted.
        """

    class _ComposeDumper(yaml.SafeDumper):
        """Quotes every string that YAML 1.1 or Compose's parser would read as something else, and
        writes shared values out in full (no anchors)."""

        def ignore_aliases(self, data):
            return True

    _ComposeLoader.yaml_implicit_resolvers = {}
    _GO_RESOLVERS = (
        ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
        ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
        (
            "tag:yaml.org,2002:int",
            r"^[-+]?(?:0b[01_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|0[0-7_]+|0|[1-9][0-9_]*)$",
            list("-+0123456789"),
        ),
        (
            "tag:yaml.org,2002:float",
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
            list("-+.0123456789"),
        ),
        ("tag:yaml.org,2002:merge", r"^<<$", ["<"]),
    )
    for _tag, _pattern, _first in _GO_RESOLVERS:
        _ComposeLoader.add_implicit_resolver(_tag, re.compile(_pattern), _first)
        if _tag != "tag:yaml.org,2002:merge":
            _ComposeDumper.add_implicit_resolver(_tag, re.compile(_pattern), _first)

    def _construct_int(loader, node):
        text = loader.construct_scalar(node).replace("_", "")
        sign = -1 if text.startswith("-") else 1
        text = text.lstrip("+-")
        for prefix, base in (("0b", 2), ("0o", 8), ("0x", 16)):
            if text.startswith(prefix):
                return sign * int(text[2:], base)
        if len(text) > 1 and text.startswith("0"):
            return sign * int(text, 8)
        return sign * int(text)

    def _construct_mapping(loader, node):
        """A mapping; a key written twice is an error (merged keys may be overridden, as in Compose)."""
        seen = set()
        for key_node, _value in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                if (key_node.tag, key_node.value) in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key_node.value!r}", key_node.start_mark
                    )  # fmt: skip
                seen.add((key_node.tag, key_node.value))
        return yaml.SafeLoader.construct_mapping(loader, node, deep=True)

    def _construct_tagged(loader, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = _construct_mapping(loader, node)
        return Tagged(node.tag, value)

    def _represent_tagged(dumper, data):
        if isinstance(data.value, dict):
            return dumper.represent_mapping(data.tag, data.value)
        if isinstance(data.value, list):
            return dumper.represent_sequence(data.tag, data.value)
        return dumper.represent_scalar(data.tag, data.value or "")

    def _represent_str(dumper, data):
        if "\n" in data:
            return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
        return dumper.represent_str(data)

    _ComposeLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
    _ComposeLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
    _ComposeLoader.add_constructor("!reset", _construct_tagged)
    _ComposeLoader.add_constructor("!override", _construct_tagged)
    _ComposeDumper.add_representer(Tagged, _represent_tagged)
    _ComposeDumper.add_representer(str, _represent_str)


def load_compose(text: str, name: str = "compose file") -> dict:
    """The compose file's content as data; ComposeFileError naming the file when it is no compose file."""
    if not HAS_YAML:
        raise ComposeFileError("PyYAML (python3-yaml) is needed to read compose files")
    try:
        documents = list(yaml.load_all(text, Loader=_ComposeLoader))
    except yaml.YAMLError as exc:
        raise ComposeFileError(f"{name} is not valid YAML: {exc}") from None
    if len(documents) != 1:
        raise ComposeFileError(f"{name} holds {len(documents)} YAML documents; a compose file is one")
    data = documents[0]
    if not isinstance(data, dict):
        raise ComposeFileError(f"{name} is not a mapping of compose keys")
    services = data.get("services")
    if not isinstance(services, dict) or not services:
        raise ComposeFileError(f"{name} has no services")
    return data


def dump_compose(data: dict) -> str:
    return yaml.dump(
        data, Dumper=_ComposeDumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100000
    )
