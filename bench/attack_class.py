"""The class server attacked as a hostile class would (issue 19), for `bench/attack.py`.

Four groups, each case held or not (`tally.add`):

- identity: missing, guessed, teacher-shaped keys; reserved names and takeovers of a key or a
  role (`class add-students`, `teacher-key`); every JupyterHub user name (e-mail, mixed case,
  dots, slashes, Unicode, reserved, very long) in a workspace of its own; a hub that does not
  answer named as such;
- quotas: bursts of concurrent job creations and uploads against the daily and storage
  quotas, jobs still training counting their tokens, bodies over the storage left (declared
  or chunked), huge JSON bodies, stored responses; each refusal the API's envelope;
- isolation: a student reaching for another's files, jobs, events, checkpoints, models,
  content, cancellations, and for the teacher's page and its routes;
- the teacher's page: unknown routes, wrong methods, odd student names: JSON envelopes only;
  and fairness: another student's 12-example job succeeds within 5 s (speed 1000) while a
  100,000-example job is in flight.

The class server runs as `python -m helpers class serve` in its own process (keys mode); hub
mode runs in this process with a stand-in for JupyterHub's HubAuth (a real hub:
tests/test_hub_class_server.py).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

REPO = Path(__file__).resolve().parent.parent
MODEL = "gpt-4o-mini-2024-07-18"
GROUPS = {
    "classe_identite": "7. Classe : identité",
    "classe_quotas": "8. Classe : quotas",
    "classe_isolement": "9. Classe : isolement",
    "classe_page": "10. Classe : page",
}
Add = Callable[[str, str, bool, str], None]


def _line(i: int, text: str = "") -> str:
    messages = [
        {"role": "user", "content": f"Question {i} {text}"},
        {"role": "assistant", "content": "COUCOU"},
    ]
    return json.dumps({"messages": messages}, ensure_ascii=False)


def dataset(n: int, text: str = "") -> bytes:
    return ("\n".join(_line(i, text) for i in range(n)) + "\n").encode()


SMALL = dataset(12)


@contextlib.contextmanager
def class_server(home: Path) -> Iterator[str]:
    """`python -m helpers class serve --port 0` (speed 1000); yields its base URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "JUPYTERHUB_"))}
    env.update(ATELIER_SANDBOX_SPEED="1000", PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "helpers", "class", "serve", "--port", "0", "--home", str(home)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        # the address is the line's first URL, whatever the language it is announced in
        yield next(w for w in line.split() if w.startswith("http")).removesuffix("/v1")
    finally:
        proc.terminate()
        proc.wait(20)


def sdk(base: str, key: str, **options: Any):
    import openai

    options.setdefault("max_retries", 0)
    options.setdefault("timeout", 60)
    return openai.OpenAI(base_url=base + "/v1", api_key=key, **options)


def request(
    base: str,
    method: str,
    path: str,
    key: str | None = None,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    *,
    chunks: list[bytes] | None = None,
) -> tuple[int, str, Any]:
    """(status, content type, JSON body or the raw text) of one request."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    hdrs = dict(headers or {})
    if key is not None:
        hdrs["Authorization"] = f"Bearer {key}"
    try:
        if chunks is not None:
            conn.request(method, path, body=iter(chunks), headers=hdrs, encode_chunked=True)
        else:
            conn.request(method, path, body=body, headers=hdrs)
        answer = conn.getresponse()
        raw = answer.read()
        ctype = answer.getheader("content-type") or ""
        try:
            return answer.status, ctype, json.loads(raw)
        except ValueError:
            return answer.status, ctype, raw.decode("utf-8", "replace")
    finally:
        conn.close()


def envelope_problem(status: int, ctype: str, body: Any, want: set[int] | None = None) -> str:
    """'' when the answer is the API's JSON error envelope (with an expected status)."""
    if want is not None and status not in want:
        return f"HTTP {status} (attendu {sorted(want)}) : {str(body)[:120]}"
    if status >= 500 and (want is None or status not in want):
        return f"HTTP {status}"
    if not ctype.startswith("application/json"):
        return f"HTTP {status} en {ctype or 'texte'} : {str(body)[:80]}"
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict) or set(err) != {"message", "type", "param", "code"}:
        return f"HTTP {status} sans l'enveloppe d'erreur : {str(body)[:120]}"
    if not isinstance(err["message"], str) or not err["message"]:
        return f"HTTP {status} avec un message vide"
    return ""


def _outcome(fn: Callable[[], Any]) -> str:
    """'ok', or the SDK error's class name."""
    try:
        fn()
        return "ok"
    except Exception as exc:  # noqa: BLE001 - the outcome is what is judged
        return type(exc).__name__


# --------------------------------------------------------------------------- identity


class FakeHubAuth:
    """HubAuth's answers: a user per token, None for an unknown one, an error when down."""

    def __init__(self, names: list[str]) -> None:
        self.users = {f"tok-{i}": n for i, n in enumerate(names)}
        self.down = False

    def user_for_token(self, token: str, use_cache: bool = True) -> dict[str, Any] | None:
        if self.down:
            raise ConnectionRefusedError("hub down")
        name = self.users.get(token)
        return None if name is None else {"kind": "user", "name": name, "admin": False}


HUB_NAMES = [
    "alice",
    "Alice",
    "ALICE",
    "alice@ecole.fr",
    "Alice@ecole.fr",
    "alice%40ecole.fr",
    "élodie",
    "e\u0301lodie",
    "jean pierre",
    "jean/pierre",
    "..",
    ".",
    ".cache",
    "-x",
    "enseignant",
    "Enseignant",
    "teacher",
    "李雷",
    "a" * 250,
    "a" * 249 + "b",
    "x~y",
    "%41lice",
]


def group_identity(add: Add, work: Path) -> None:
    from helpers.asgi_thread import serve_in_thread
    from helpers.kit_server.classroom import create_class_app
    from helpers.kit_server.classroom.roster import Roster, RosterError

    g = "classe_identite"
    home = work / "classe-identite"
    roster = Roster(home)
    keys = roster.add_students(["alice", "bob"])
    teacher = roster.teacher_key()
    for names in (["enseignant"], ["Enseignant"], ["alice", "enseignant"], ["teacher"]):
        try:
            roster.add_students(names)
            add(g, f"add-students {' '.join(names)} refusé", False, "accepté")
        except RosterError as err:
            add(g, f"add-students {' '.join(names)} refusé", "réservé" in str(err), str(err))
    person = roster.by_key(teacher)
    add(g, "la clé enseignant·e garde son rôle", bool(person and person.teacher), repr(person))
    try:
        roster.teacher_key("bob")
        add(g, "teacher-key ne prend pas le nom d'un·e élève", False, "accepté")
    except RosterError:
        add(
            g,
            "teacher-key ne prend pas le nom d'un·e élève",
            roster.role_of("bob") == "student",
            "",
        )
    roster.enrol("prof", "teacher", "prof")
    try:
        roster.add_students(["prof"])
        add(g, "add-students ne prend pas un·e enseignant·e du hub", False, "accepté")
    except RosterError:
        add(g, "add-students ne prend pas un·e enseignant·e du hub", True, "")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "helpers",
            "class",
            "add-students",
            "enseignant",
            "--home",
            str(home),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    add(
        g,
        "commande add-students enseignant : refus en français, sans trace",
        done.returncode == 2 and "réservé" in done.stderr and "Traceback" not in done.stderr,
        done.stderr[-160:],
    )
    with class_server(home) as base:
        for name, key in (
            ("sans clé", None),
            ("clé vide", ""),
            ("clé devinée", "classe-alice-devinee"),
            ("clé d'un autre serveur", "sk-sandbox-invalid_key"),
            ("clé enseignant·e tronquée", teacher[:-2]),
            ("en-tête Basic", None),
        ):
            headers = {"Authorization": "Basic YWxpY2U6eA=="} if name == "en-tête Basic" else {}
            status, ctype, body = request(base, "GET", "/v1/models", key, headers=headers)
            add(
                g,
                f"/v1 {name} : 401",
                not envelope_problem(status, ctype, body, {401}),
                str(body)[:120],
            )
        prof = sdk(base, teacher)
        outcome = _outcome(lambda: prof.files.create(file=("c.jsonl", SMALL), purpose="fine-tune"))
        add(
            g,
            "la clé enseignant·e sur /v1 n'inscrit pas « enseignant » comme élève",
            outcome == "ok"
            and not (home / "students" / "enseignant").exists()
            and (home / "teachers" / "enseignant").is_dir(),
            outcome,
        )
        status, _, overview = request(base, "GET", "/classe/api/overview", teacher)
        listed = [s["name"] for s in overview.get("students", [])] if status == 200 else []
        add(g, "la page ne liste que les élèves", listed == ["alice", "bob"], str(listed))
    # hub mode, in this process: every hub name, one workspace each; a hub that is down
    hub = FakeHubAuth(HUB_NAMES)
    hub_home = work / "classe-hub"
    running = serve_in_thread(create_class_app(hub_home, hub=True, hub_auth=hub))
    base = f"http://127.0.0.1:{running.port}"
    try:
        seen: dict[str, set[str]] = {}
        for i, name in enumerate(HUB_NAMES):
            c = sdk(base, f"tok-{i}")
            outcome = _outcome(
                lambda c=c: c.files.create(file=("c.jsonl", SMALL), purpose="fine-tune")
            )
            ids = {f.id for f in c.files.list().data} if outcome == "ok" else set()
            seen[name] = ids
            add(
                g, f"hub : « {name[:40]} » a son espace", outcome == "ok" and len(ids) == 1, outcome
            )
        all_ids = [i for ids in seen.values() for i in ids]
        add(g, "hub : aucun espace partagé entre deux noms", len(all_ids) == len(set(all_ids)), "")
        folders = [p.name for p in (hub_home / "students").iterdir()]
        add(
            g,
            "hub : un dossier sûr par nom (pas de /, ni .., ni caché)",
            len(folders) == len(HUB_NAMES)
            and all(not f.startswith(".") and len(f) <= 96 for f in folders)
            and not (hub_home / "students" / "enseignant").exists(),
            str(sorted(folders)[:5]),
        )
        status, ctype, body = request(base, "GET", "/v1/models", "tok-unknown")
        add(
            g,
            "hub : jeton inconnu, 401",
            not envelope_problem(status, ctype, body, {401}),
            str(body)[:100],
        )
        hub.down = True
        status, ctype, body = request(base, "GET", "/v1/models", "tok-999")
        named = isinstance(body, dict) and "JupyterHub" in str(body.get("error", {}).get("message"))
        add(
            g,
            "hub injoignable : 503 hub_unavailable, pas « Incorrect API key »",
            not envelope_problem(status, ctype, body, {503}) and named,
            str(body)[:140],
        )
        status, ctype, body = request(base, "GET", "/classe/api/overview", "tok-999")
        add(
            g,
            "hub injoignable : la page répond 503 en JSON",
            not envelope_problem(status, ctype, body, {503}),
            "",
        )
        from helpers import errors

        try:
            sdk(base, "tok-998").models.list()  # never named: the hub must be asked
            add(g, "hub injoignable : diagnostic français", False, "pas d'erreur")
        except Exception as exc:  # noqa: BLE001
            d = errors.explain(exc)
            add(g, "hub injoignable : diagnostic français", d.code == "hub_unavailable", d.title)
    finally:
        running.stop()
    del keys


# --------------------------------------------------------------------------- quotas


def _burst(n: int, fn: Callable[[int], str]) -> list[str]:
    start = threading.Barrier(n)

    def one(i: int) -> str:
        start.wait(60)
        return fn(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def group_quotas(add: Add, work: Path) -> None:
    from helpers import errors
    from helpers.kit_server.classroom.roster import Roster

    g = "classe_quotas"
    home = work / "classe-quotas"
    roster = Roster(home)
    names = [f"e{i}" for i in range(12)]
    keys = roster.add_students(names)
    slow = {"X-Atelier-Sandbox-Speed": "0.01"}
    with class_server(home) as base:
        for limit, n in ((2, 20), (1, 10), (5, 30)):
            student = names.pop()
            roster.set_quota("jobs_per_day", limit)
            c = sdk(base, keys[student])
            file_id = c.files.create(file=("c.jsonl", SMALL), purpose="fine-tune").id

            def create(_: int, c=c, file_id=file_id) -> str:
                return _outcome(
                    lambda: c.fine_tuning.jobs.create(
                        training_file=file_id, model=MODEL, extra_headers=slow
                    )
                )

            outcomes = _burst(n, create)
            made = len(c.fine_tuning.jobs.list(limit=100).data)
            add(
                g,
                f"jobs_per_day {limit}, {n} créations simultanées : {limit} jobs au plus",
                made == limit and outcomes.count("ok") == limit,
                f"{made} jobs, {outcomes.count('ok')} acceptés",
            )
            refused = [o for o in outcomes if o != "ok"]
            add(
                g,
                f"jobs_per_day {limit} : les refus sont des 429",
                set(refused) <= {"RateLimitError"},
                str(set(refused)),
            )
        roster.set_quota("jobs_per_day", 20)
        roster.set_quota("training_tokens_per_day", 100)
        student = names.pop()
        c = sdk(base, keys[student])
        file_id = c.files.create(file=("c.jsonl", SMALL), purpose="fine-tune").id
        first = _outcome(
            lambda: c.fine_tuning.jobs.create(
                training_file=file_id, model=MODEL, extra_headers=slow
            )
        )
        try:
            c.fine_tuning.jobs.create(training_file=file_id, model=MODEL, extra_headers=slow)
            add(g, "jetons : un job encore en cours compte déjà", False, f"1er {first}, 2e accepté")
        except Exception as exc:  # noqa: BLE001
            d = errors.explain(exc)
            add(
                g,
                "jetons : un job encore en cours compte déjà",
                type(exc).__name__ == "RateLimitError" and d.code == "class_quota",
                f"{type(exc).__name__} {d.code}",
            )
        roster.set_quota("training_tokens_per_day", 2_000_000)
        # storage: number of files
        roster.set_quota("storage_files", 3)
        student = names.pop()
        c = sdk(base, keys[student])
        outcomes = _burst(
            12,
            lambda i: _outcome(
                lambda: c.files.create(file=(f"f{i}.jsonl", SMALL), purpose="fine-tune")
            ),
        )
        stored = len(c.files.list().data)
        add(
            g,
            "storage_files 3, 12 envois simultanés : 3 fichiers",
            stored == 3 and outcomes.count("ok") == 3,
            f"{stored} fichiers, {outcomes.count('ok')} acceptés",
        )
        try:
            c.files.create(file=("encore.jsonl", SMALL), purpose="fine-tune")
            add(g, "fichier de trop : 400 et diagnostic français", False, "accepté")
        except Exception as exc:  # noqa: BLE001
            d = errors.explain(exc)
            add(
                g,
                "fichier de trop : 400 et diagnostic français",
                getattr(exc, "status_code", 0) == 400 and d.code == "storage_quota",
                f"{type(exc).__name__} {d.code}",
            )
        c.files.delete(c.files.list().data[0].id)
        outcome = _outcome(lambda: c.files.create(file=("apres.jsonl", SMALL), purpose="fine-tune"))
        add(g, "supprimer un fichier libère une place", outcome == "ok", outcome)
        roster.set_quota("storage_files", 500)
        # storage: bytes
        roster.set_quota("storage_bytes", 2 * 1024 * 1024)
        student = names.pop()
        c = sdk(base, keys[student])
        big = dataset(6000, "x" * 300)  # ≈ 2.1 MB
        outcome = _outcome(lambda: c.files.create(file=("gros.jsonl", big), purpose="fine-tune"))
        add(g, "un fichier plus gros que le quota : 400", outcome == "BadRequestError", outcome)
        half = dataset(2000, "x" * 300)  # ≈ 0.7 MB
        outcomes = _burst(
            6,
            lambda i: _outcome(
                lambda: c.files.create(file=(f"m{i}.jsonl", half), purpose="fine-tune")
            ),
        )
        add(
            g,
            "6 envois simultanés de 0,7 Mo pour 2 Mo : 2 acceptés",
            outcomes.count("ok") == 2 and len(c.files.list().data) == 2,
            str(outcomes),
        )
        boundary = "attaque"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="c.jsonl"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        chunks = [head] + [half] * 4 + [f"\r\n--{boundary}--\r\n".encode()]
        status, ctype, body = request(
            base,
            "POST",
            "/v1/files",
            keys[student],
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            chunks=chunks,
        )
        add(
            g,
            "envoi « chunked » sans longueur au-delà du quota : 400",
            not envelope_problem(status, ctype, body, {400}),
            str(body)[:100],
        )
        status, ctype, body = request(
            base,
            "POST",
            "/v1/responses",
            keys[student],
            json.dumps({"model": MODEL, "input": "y" * 3_000_000}).encode(),
            {"Content-Type": "application/json"},
        )
        add(
            g,
            "réponse enregistrée au-delà du quota : 400",
            not envelope_problem(status, ctype, body, {400}),
            str(body)[:100],
        )
        status, ctype, body = request(
            base,
            "POST",
            "/v1/chat/completions",
            keys[student],
            b'{"model": "'
            + MODEL.encode()
            + b'", "messages": [], "x": "'
            + b"a" * (33 * 1024 * 1024)
            + b'"}',
            {"Content-Type": "application/json"},
        )
        add(
            g,
            "corps JSON de 33 Mo : 413",
            not envelope_problem(status, ctype, body, {413}),
            str(body)[:100],
        )
        status, ctype, body = request(
            base,
            "POST",
            "/v1/files",
            keys[student],
            b"x" * 10,
            {
                "Content-Type": "multipart/form-data; boundary=z",
                "Content-Length": str(600 * 1024 * 1024),
            },
        )
        add(g, "Content-Length annoncé de 600 Mo : refus immédiat", status == 400, f"HTTP {status}")
        # a flood: 40 slow requests at once from one student, another one answered meanwhile
        flooder, other = sdk(base, keys[names.pop()]), sdk(base, keys[names.pop()])

        def flood(_: int) -> str:
            return _outcome(
                lambda: flooder.models.list(extra_headers={"X-Sandbox-Fault": "slow=3"})
            )

        with ThreadPoolExecutor(40) as pool:
            flooding = pool.map(flood, range(40))
            time.sleep(0.5)
            t0 = time.perf_counter()
            answered = _outcome(other.models.list)
            took = time.perf_counter() - t0
            outcomes = list(flooding)
        add(
            g,
            "40 requêtes lentes simultanées d'un·e élève : 8 servies, les autres 429",
            outcomes.count("ok") <= 8 and set(outcomes) <= {"ok", "RateLimitError"},
            f"{outcomes.count('ok')} servies",
        )
        add(
            g,
            "pendant ce temps, un·e autre élève est servi·e (≤ 2 s)",
            answered == "ok" and took <= 2,
            f"{answered} en {took:.1f} s",
        )
        status, _, overview = request(base, "GET", "/classe/api/overview", roster.teacher_key())
        quotas = overview.get("quotas", {}) if isinstance(overview, dict) else {}
        add(
            g,
            "la page montre les quotas de stockage et l'usage de chaque élève",
            {"storage_bytes", "storage_files"} <= set(quotas)
            and all(s.get("storage") for s in overview.get("students", [])),
            str(quotas),
        )


# --------------------------------------------------------------------------- isolation


def group_isolation(add: Add, work: Path) -> None:
    g = "classe_isolement"
    from helpers.kit_server.classroom.roster import Roster

    home = work / "classe-isolement"
    roster = Roster(home)
    keys = roster.add_students(["alice", "bob"])
    with class_server(home) as base:
        alice, bob = sdk(base, keys["alice"]), sdk(base, keys["bob"])
        f = alice.files.create(file=("a.jsonl", SMALL), purpose="fine-tune")
        job = alice.fine_tuning.jobs.create(training_file=f.id, model=MODEL)
        while job.status not in ("succeeded", "failed"):
            time.sleep(0.05)
            job = alice.fine_tuning.jobs.retrieve(job.id)
        model = job.fine_tuned_model or "ft:x"
        for name, method, path in (
            ("fichier", "GET", f"/v1/files/{f.id}"),
            ("contenu", "GET", f"/v1/files/{f.id}/content"),
            ("suppression de fichier", "DELETE", f"/v1/files/{f.id}"),
            ("job", "GET", f"/v1/fine_tuning/jobs/{job.id}"),
            ("événements", "GET", f"/v1/fine_tuning/jobs/{job.id}/events"),
            ("checkpoints", "GET", f"/v1/fine_tuning/jobs/{job.id}/checkpoints"),
            ("annulation", "POST", f"/v1/fine_tuning/jobs/{job.id}/cancel"),
            ("modèle", "GET", f"/v1/models/{quote(model, safe=':')}"),
            ("suppression du modèle", "DELETE", f"/v1/models/{quote(model, safe=':')}"),
        ):
            status, ctype, body = request(base, method, path, keys["bob"])
            add(
                g,
                f"bob → {name} d'alice : 404",
                not envelope_problem(status, ctype, body, {404}),
                str(body)[:100],
            )
        outcome = _outcome(
            lambda: bob.chat.completions.create(
                model=model, messages=[{"role": "user", "content": "Bonjour"}]
            )
        )
        add(g, "bob → chat avec le modèle d'alice : 404", outcome == "NotFoundError", outcome)
        add(
            g,
            "bob ne voit rien d'alice dans ses listes",
            not bob.files.list().data
            and not bob.fine_tuning.jobs.list().data
            and model not in {m.id for m in bob.models.list()},
            "",
        )
        for path, method in (
            ("/classe/api/overview", "GET"),
            (f"/classe/api/students/alice/jobs/{job.id}/cancel", "POST"),
        ):
            status, ctype, body = request(base, method, path, keys["bob"])
            add(
                g,
                f"clé d'élève sur {method} {path[:40]} : 401",
                not envelope_problem(status, ctype, body, {401}),
                str(body)[:100],
            )
        status, ctype, body = request(base, "GET", f"/v1/files/{f.id}", keys["alice"])
        add(g, "le fichier d'alice est toujours là", status == 200, f"HTTP {status}")


# --------------------------------------------------------------------------- page, fairness


def group_page(add: Add, work: Path) -> None:
    g = "classe_page"
    from helpers.kit_server.classroom.roster import Roster

    home = work / "classe-page"
    roster = Roster(home)
    keys = roster.add_students(["alice", "heavy"])
    teacher = roster.teacher_key()
    with class_server(home) as base:
        for method, path, want in (
            ("GET", "/classe/api/inconnue", 404),
            ("GET", "/classe/api/overview/", 404),
            ("GET", "/classe/x.js", 404),
            ("GET", "/classe/../class.sqlite3", 404),
            ("GET", "/classe/%2e%2e/class.sqlite3", 404),
            ("POST", "/classe/api/overview", 405),
            ("PUT", "/classe/", 405),
            ("DELETE", "/classe/api/overview", 405),
            ("PATCH", "/classe/app.js", 405),
            ("GET", "/classe/api/students/alice/jobs/ftjob-x/cancel", 405),
            ("POST", "/classe/api/students/inconnu/jobs/ftjob-x/cancel", 404),
            ("POST", "/classe/api/students/..%2F..%2Fetc/jobs/ftjob-x/cancel", 404),
            ("POST", "/classe/api/students/alice/jobs/ftjob-x/cancel", 404),
            ("POST", "/classe/api/students/alice/jobs/%00/cancel", 404),
            ("GET", "/", 404),
            ("GET", "/kit/tokens", 404),
            ("POST", "/kit/tokens", 404),
            ("GET", "/v2/models", 404),
        ):
            status, ctype, body = request(base, method, path, teacher)
            add(
                g,
                f"{method} {path[:48]} : {want} en JSON",
                not envelope_problem(status, ctype, body, {want}),
                str(body)[:100],
            )
        status, ctype, _ = request(base, "GET", "/classe/")
        add(
            g,
            "la page elle-même reste du HTML",
            status == 200 and ctype.startswith("text/html"),
            ctype,
        )
        # fairness: a 12-example job beside a 100,000-example one
        big = sdk(base, keys["heavy"])
        heavy = dataset(100_000)
        file_id = big.files.create(file=("lourd.jsonl", heavy), purpose="fine-tune").id
        heavy_job = big.fine_tuning.jobs.create(training_file=file_id, model=MODEL)
        alice = sdk(base, keys["alice"])
        small_id = alice.files.create(file=("petit.jsonl", SMALL), purpose="fine-tune").id
        t0 = time.perf_counter()
        job = alice.fine_tuning.jobs.create(training_file=small_id, model=MODEL)
        while (
            job.status not in ("succeeded", "failed", "cancelled") and time.perf_counter() - t0 < 60
        ):
            time.sleep(0.05)
            job = alice.fine_tuning.jobs.retrieve(job.id)
        took = time.perf_counter() - t0
        busy = big.fine_tuning.jobs.retrieve(heavy_job.id).status
        add(
            g,
            "un job de 12 exemples réussit en ≤ 5 s pendant un job de 100 000 exemples",
            job.status == "succeeded" and took <= 5,
            f"{job.status} en {took:.1f} s (le gros job : {busy})",
        )
        while busy not in ("succeeded", "failed", "cancelled") and time.perf_counter() - t0 < 300:
            time.sleep(0.5)
            busy = big.fine_tuning.jobs.retrieve(heavy_job.id).status
        add(g, "le job de 100 000 exemples réussit aussi", busy == "succeeded", busy)


def run(group: str, add: Add, work: Path) -> None:
    """Run one of GROUPS (an unexpected failure of the run itself is a case that did not hold)."""
    steps = {
        "classe_identite": group_identity,
        "classe_quotas": group_quotas,
        "classe_isolement": group_isolation,
        "classe_page": group_page,
    }
    try:
        steps[group](add, work)
    except Exception as exc:  # noqa: BLE001 - reported as a case
        add(group, "le groupe s'exécute jusqu'au bout", False, f"{type(exc).__name__}: {exc}"[:200])
