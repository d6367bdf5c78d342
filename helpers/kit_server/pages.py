"""A list's page as the real API returns it: `{"object": "list", "data", "has_more"}` after a
cursor (`after`), with `first_id` and `last_id` where the resource has them (files,
checkpoints). Every list route and both engines page with these."""

from __future__ import annotations

from typing import Any


def page(items: list[dict[str, Any]], after: str | None, limit: int) -> dict[str, Any]:
    """A cursor page over items already in list order: those after the `after` id."""
    if after:
        ids = [item["id"] for item in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    return {"object": "list", "data": items[:limit], "has_more": len(items) > limit}


def with_first_last(page: dict[str, Any]) -> dict[str, Any]:
    """A page that also names its first and last ids (files, checkpoints)."""
    page["first_id"] = page["data"][0]["id"] if page["data"] else None
    page["last_id"] = page["data"][-1]["id"] if page["data"] else None
    return page
