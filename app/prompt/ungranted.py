"""A call to a tool the user has not granted becomes a request for the grant, in words.

The prompt declares only the granted tools, but the model learned the whole catalog.
Decoding lets it name a built-in tool of an ungranted group (`Conversation.grantable`)
rather than forcing the nearest granted tool (a calendar request with only files granted
would otherwise come out as `create_folder`). Such a reply is never proposed: the user
is told which permission the request needs, and nothing runs.
"""

from __future__ import annotations

from typing import Sequence

from app.prompt.parse import ParseError, parse_reply
from app.prompt.render import Conversation
from app.tools.catalog import ToolSpec


def nameable_tools(conv: Conversation) -> tuple[ToolSpec, ...]:
    """The tools decoding may name: the declared ones, then the grantable ones."""
    declared = {t.name for t in conv.tools}
    return conv.tools + tuple(t for t in conv.grantable if t.name not in declared)


def grant_request(raw: str, grantable: Sequence[ToolSpec]) -> str | None:
    """The words that replace `raw` when it calls a tool of an ungranted group, else None."""
    if not grantable:
        return None
    try:
        calls = parse_reply(raw).calls
    except ParseError:
        return None
    by_name = {t.name: t for t in grantable}
    needed = sorted({by_name[c.name].group for c in calls if c.name in by_name})
    if not needed:
        return None
    groups = " and ".join(needed)
    plural = "they are" if len(needed) > 1 else "it is"
    return (f"That needs the {groups} tools, and {plural} not granted, so I did nothing. "
            f"Grant {groups} in Settings → Permissions, then ask again.")
