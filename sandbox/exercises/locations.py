"""Where a field sits in a YAML file: the line of a key and a name for it a person reads ("case 2 > expect")."""

from __future__ import annotations

from typing import Any

import yaml

from ..i18n import _


def node_at(node: yaml.Node | None, loc: tuple[Any, ...]) -> tuple[yaml.Node | None, bool]:
    """The deepest node along ``loc``; the flag says whether the whole path was found."""
    current = node
    for part in loc:
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                if key_node.value == part:
                    current = value_node
                    break
            else:
                return current, False
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int):
            if part < len(current.value):
                current = current.value[part]
            else:
                return current, False
        else:
            return current, False
    return current, True


def key_line(node: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    """1-based line of the key named by ``loc`` (or of its nearest parent)."""
    if not loc:
        return (node.start_mark.line + 1) if node is not None else 1
    parent, found = node_at(node, loc[:-1])
    if found and isinstance(parent, yaml.MappingNode):
        for key_node, _ in parent.value:
            if key_node.value == loc[-1]:
                return key_node.start_mark.line + 1
    target, _ = node_at(node, loc)
    return (target.start_mark.line + 1) if target is not None else 1


def where(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for i, part in enumerate(loc):
        if isinstance(part, int) and i > 0 and loc[i - 1] == "cases":
            parts[-1] = _("case {number}").format(number=part + 1)
        elif isinstance(part, int):
            parts.append(_("item {number}").format(number=part + 1))
        else:
            parts.append(str(part))
    return " > ".join(parts) if parts else _("file")
