"""What following a job costs: requests per poll, events fetched vs events existing.

Follows a sandbox COUCOU job with `helpers.jobs.Follower` and counts every HTTP request
through an event hook on the SDK's own HTTP client (bench only: `helpers` never imports
httpx). Target: one retrieve + at most one events page per poll, no event delivered twice. The
API lists events newest first with no `before` cursor: a poll re-reads the newest known
event (the proof that nothing was missed), so "fetched twice" is about one per poll.

    .venv/bin/python bench/poll_cost.py [SPEED] [PAGE_SIZE]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
SPEED = sys.argv[1] if len(sys.argv) > 1 else "20"
PAGE = int(sys.argv[2]) if len(sys.argv) > 2 else 100
os.environ["ATELIER_HOME"] = tempfile.mkdtemp(prefix="atelier-bench-")
os.environ["ATELIER_MODE"] = "sandbox"
os.environ["ATELIER_SANDBOX_SPEED"] = SPEED

import openai  # noqa: E402
import openai._base_client as _bc  # noqa: E402

from helpers import jobs, kit_server  # noqa: E402

hx = getattr(_bc, "httpx2", None) or _bc.httpx


def main() -> int:
    log: list[tuple[str, str]] = []
    fetched: list[str] = []

    def on_request(request) -> None:
        log.append((request.method, request.url.path))
        if os.environ.get("BENCH_TRACE"):
            print("  ", request.method, request.url.path[-30:], request.url.query)

    def on_response(response) -> None:
        if response.request.url.path.endswith("/events"):
            response.read()
            fetched.extend(e["id"] for e in response.json()["data"])
            if os.environ.get("BENCH_TRACE"):
                print("   ->", len(response.json()["data"]), "events")

    url = kit_server.start()
    api = openai.OpenAI(
        base_url=url,
        api_key=kit_server.key(),
        max_retries=0,
        http_client=hx.Client(event_hooks={"request": [on_request], "response": [on_response]}),
    )
    jobs.upload(REPO / "data" / "coucou.jsonl", client=api)
    job = jobs.create(suffix="coucou", client=api)
    follower = jobs.Follower(job.id, client=api, page_size=PAGE)
    per_poll: list[Counter] = []
    delivered: list[str] = []
    start = time.monotonic()
    while True:
        before = len(log)
        update = follower.poll()
        kinds = Counter(
            "events" if p.endswith("/events") else "retrieve" if p.endswith(job.id) else p
            for _, p in log[before:]
        )
        per_poll.append(kinds)
        delivered += [e.id for e in update.new_events]
        if update.done:
            break
        time.sleep(0.2)
    elapsed = time.monotonic() - start
    plain = openai.OpenAI(base_url=url, api_key=kit_server.key(), max_retries=0)  # not counted
    existing = [e.id for e in plain.fine_tuning.jobs.list_events(job.id, limit=100)]
    polls = len(per_poll)
    worst_retrieve = max(c["retrieve"] for c in per_poll)
    worst_events = max(c["events"] for c in per_poll)
    twice = len(fetched) - len(set(fetched))
    print(
        f"job {job.id}: {update.job.status} in {elapsed:.1f} s at speed {SPEED}, events page size {PAGE}"
    )
    print(
        f"polls: {polls}; requests per poll: max {worst_retrieve} retrieve + max {worst_events} events page; "
        f"total {sum(sum(c.values()) for c in per_poll)} requests"
    )
    print(
        f"events existing: {len(existing)}; fetched: {len(fetched)}; delivered: {len(delivered)} "
        f"(delivered twice: {len(delivered) - len(set(delivered))})"
    )
    print(
        f"known events re-read: {twice} over {polls} polls — the API lists events newest first and has no "
        "`before` cursor, so each page must include the newest known event to prove nothing was missed"
    )
    ok = (
        worst_retrieve == 1
        and worst_events <= 1
        and len(delivered) == len(set(delivered))
        and sorted(delivered) == sorted(existing)
    )
    print(
        "target (1 retrieve + ≤ 1 events page per poll, nothing delivered twice, all delivered):",
        "OK" if ok else "MISSED",
    )
    print(f"re-reads per poll: {twice / polls:.1f} (information; zero is impossible with this API)")
    kit_server.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
