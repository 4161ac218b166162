"""Conditional requests as RFC 9110 reads them: If-Match on a change or a cancel.

`*` or no header applies the change to the current version; otherwise the header is a
list of entity tags, compared STRONGLY: a weak tag (W/"2") matches nothing, and a tag is an
opaque string, so "04" is not version 4's ETag "4". A list matches when the current ETag is
any of its members. An appointment's ETag is its version: `"<version>"`.
"""

from __future__ import annotations

import re

from app import reads
from app.errors import catalogue_error
from app.records import Caller
from app.web.problems import ProblemError

_ENTITY_TAG = r'(W/)?"([\x21\x23-\x7e\x80-\xff]*)"'
_ENTITY_TAG_RE = re.compile(_ENTITY_TAG)
_LIST_RE = re.compile(rf"\s*{_ENTITY_TAG}(?:\s*,\s*{_ENTITY_TAG})*\s*")


def etag(version: int) -> str:
    return f'"{version}"'


APPOINTMENT_VERSION = r"[1-9][0-9]{0,8}"  # an appointment's version: an int from 1


def matching_versions(if_match: str | None, version: str = APPOINTMENT_VERSION) -> frozenset[int] | None:
    """None for no condition (absent or `*`); otherwise the versions a strong tag of the
    list names (possibly none), a version being what the regular expression `version`
    matches whole. A header that is not a list of entity tags is 400."""
    if if_match is None or if_match.strip() == "*":
        return None
    if len(if_match) > 1024 or not _LIST_RE.fullmatch(if_match):
        raise ProblemError(
            400,
            "invalid_if_match",
            "Malformed If-Match",
            f'If-Match must be a list of entity tags such as "3" or "3", "4" (got {if_match[:60]!r}).',
            field="If-Match",
        )
    return frozenset(
        int(tag) for weak, tag in _ENTITY_TAG_RE.findall(if_match) if not weak and re.fullmatch(version, tag)
    )


async def expected_version(read_pool, if_match: str | None, appointment_id: int, caller: Caller) -> int | None:
    """The p_expected_version an If-Match asks for: None (no condition), the version a single
    tag names, or, for a list of several, the current version when it is one of them (read
    just before the change; a change in between makes the call answer 412). No match: 412."""
    versions = matching_versions(if_match)
    if versions is None:
        return None
    if len(versions) == 1:
        return next(iter(versions))
    if versions:
        current = await reads.appointment(read_pool, appointment_id, caller.user_id, caller.role)
        if current is None:
            raise catalogue_error("BK011", f"No appointment {appointment_id} is visible to you.")
        if current.version in versions:
            return current.version
    raise catalogue_error(
        "BK001",
        "None of the entity tags of If-Match is the appointment's current ETag "
        "(If-Match compares strongly: a weak W/ tag never matches).",
    )
