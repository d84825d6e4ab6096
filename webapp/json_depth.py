"""How deep a JSON text nests, counted on the text itself: the one depth check of the API's
bodies (``api.parsers``) and the websockets' messages (``realtime.sockets``), below both.

Python's json module recurses once per level, so a few KB of ``[`` is a RecursionError in it (or
deeper, in the code that walks the data). Counting brackets outside strings needs no recursion
and runs before anything parses the text.
"""

from __future__ import annotations

import re

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def json_depth_exceeds(text: str, limit: int) -> bool:
    """Whether arrays and objects nest deeper than ``limit`` (brackets inside strings don't count)."""
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        depth += 1 if match.group() in "[{" else -1
        if depth > limit:
            return True
    return False
