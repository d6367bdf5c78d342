"""A real JupyterHub on 127.0.0.1 for the class tests and bench (tests/test_hub.py,
bench/hub_class.py): JupyterHub + configurable-http-proxy + DummyAuthenticator +
SimpleLocalProcessSpawner, the course served by `git daemon` on loopback, students pulled
by the README's nbgitpuller link, notebooks run through each single-user server's REST and
kernel websocket API (and in Chromium for one student).

`make venv-hub` installs the hub's venv (`.venv-hub`) and the proxy (`.hub-node`); facts on
this setup: ../shared/hub-notes.md. Linux only (/proc for memory).
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
COURSE = sorted(p.name for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CLONE = "atelier-fine-tuning"  # the folder nbgitpuller makes in each home (README link)
KIT_CONFIG = REPO / "binder" / "jupyter_server_config.py"
CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"timed out after {timeout:g} s: {what}")


# --------------------------------------------------------------------------- git server


@contextlib.contextmanager
def git_server(root: Path) -> Iterator[str]:
    """`git daemon` on loopback serving the working tree's tracked files (uncommitted changes
    included) as branch `main` of `<url>/atelier-fine-tuning`; yields the repository URL."""
    bare = root / CLONE
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    sha = subprocess.run(
        ["git", "stash", "create"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()
    sha = (
        sha
        or subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    subprocess.run(
        ["git", "push", "-q", "--force", str(bare), f"{sha}:refs/heads/main"], cwd=REPO, check=True
    )
    subprocess.run(["git", "symbolic-ref", "HEAD", "refs/heads/main"], cwd=bare, check=True)
    port = free_port()
    daemon = subprocess.Popen(
        [
            "git",
            "daemon",
            "--reuseaddr",
            "--listen=127.0.0.1",
            f"--port={port}",
            f"--base-path={root}",
            "--export-all",
            str(root),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"git://127.0.0.1:{port}/{CLONE}"
    try:
        wait_for(
            lambda: subprocess.run(["git", "ls-remote", url], capture_output=True).returncode == 0,
            20,
            "git daemon",
        )
        yield url
    finally:
        daemon.terminate()
        daemon.wait(10)


def readme_link() -> str:
    """The README's nbgitpuller link, as printed there."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return re.search(r"https://TON-HUB\.example\.org/hub/user-redirect/git-pull\?\S+", text).group(
        0
    )


def link_for(hub_url: str, repo_url: str) -> str:
    """The README's link for this hub and this repository (everything else unchanged)."""
    link = readme_link().replace("https://TON-HUB.example.org", hub_url)
    github = "https%3A%2F%2Fgithub.com%2Fatelier-fine-tuning%2Fatelier-fine-tuning"
    assert github in link, link
    return link.replace(github, urllib.parse.quote(repo_url, safe=""))


# --------------------------------------------------------------------------- the hub


@dataclass
class Hub:
    root: Path
    venv: Path
    node: Path
    speed: str = "1000"
    port: int = field(default_factory=free_port)
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    proc: subprocess.Popen | None = None
    repo_url: str = ""
    users: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root, self.venv, self.node = (p.resolve() for p in (self.root, self.venv, self.node))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def home(self, user: str) -> Path:
        return self.root / "homes" / user

    def config(self) -> str:
        bin_dir = self.venv.resolve() / "bin"
        env = {
            "ATELIER_SANDBOX_SPEED": self.speed,
            "ATELIER_SERVER_IDLE": "900",
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "HF_HUB_OFFLINE": "1",
        }
        return f"""
c = get_config()  # noqa
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {self.port}
c.JupyterHub.hub_port = {free_port()}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{free_port()}"
c.ConfigurableHTTPProxy.command = [{str(self.node.resolve() / "node_modules/.bin/configurable-http-proxy")!r}]
c.ConfigurableHTTPProxy.pid_file = {str(self.root / "proxy.pid")!r}
c.JupyterHub.db_url = "sqlite:///{self.root / "hub.sqlite"}"
c.JupyterHub.cookie_secret_file = {str(self.root / "cookie_secret")!r}
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {str(self.root / "homes" / "{username}")!r}
c.Spawner.cmd = [{str(bin_dir / "jupyterhub-singleuser")!r}]
c.Spawner.args = ["--allow-root", "--config={KIT_CONFIG}", "--LabApp.expose_app_in_browser=True"]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {env!r}
# The kit is the copy nbgitpuller pulled (what `python -m helpers` and the kit server import).
c.Spawner.environment["PYTHONPATH"] = lambda spawner: spawner.home_dir + "/{CLONE}"
c.Spawner.http_timeout = 90
c.Spawner.start_timeout = 180
c.JupyterHub.services = [{{"name": "tests", "api_token": {self.token!r}}}]
c.JupyterHub.load_roles = [{{"name": "tests", "services": ["tests"],
    "scopes": ["admin:users", "admin:servers", "admin:server_state", "access:servers",
               "tokens", "admin:groups"]}}]
"""

    def start(self) -> None:
        (self.root / "homes").mkdir(parents=True, exist_ok=True)
        (self.root / "jupyterhub_config.py").write_text(self.config(), encoding="utf-8")
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("ATELIER_", "OPENAI_", "JUPYTER", "PYTHONPATH", "VIRTUAL_ENV"))
        }
        env["PATH"] = f"{self.venv.resolve() / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        self.proc = subprocess.Popen(
            [str(self.venv / "bin" / "jupyterhub"), "-f", str(self.root / "jupyterhub_config.py")],
            cwd=self.root,
            env=env,
            stdout=open(self.root / "hub.log", "ab"),  # noqa: SIM115 - closed with the process
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self._up, 90, "the hub to answer")

    def _up(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"the hub exited: {self.log_tail()}")
        try:
            return self.api("GET", "/hub/api/")[0] == 200
        except OSError:
            return False

    def log_tail(self, n: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join((self.root / "hub.log").read_text(errors="replace").splitlines()[-n:])
        return ""

    def api(self, method: str, path: str, body: Any = None, timeout: float = 60) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
                raw = answer.read()
                return answer.status, json.loads(raw) if raw.strip().startswith(
                    (b"{", b"[")
                ) else raw
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def add_student(self, user: str) -> None:
        self.api("POST", f"/hub/api/users/{user}")
        self.users.append(user)

    def spawn(self, user: str, timeout: float = 240) -> None:
        # JupyterHub 6.1 may answer 500 (InvalidStateError) to a slow spawn that goes on: poll.
        self.api("POST", f"/hub/api/users/{user}/server", timeout=timeout)
        wait_for(lambda: self.ready(user), timeout, f"{user}'s server")

    def ready(self, user: str) -> bool:
        status, info = self.api("GET", f"/hub/api/users/{user}")
        return status == 200 and bool(info.get("servers", {}).get("", {}).get("ready"))

    def server_pid(self, user: str) -> int | None:
        _, info = self.api("GET", f"/hub/api/users/{user}")
        state = info.get("servers", {}).get("", {}).get("state") or {}
        return state.get("pid")

    def stop(self) -> None:
        for user in self.users:
            with contextlib.suppress(OSError):
                self.api("DELETE", f"/hub/api/users/{user}/server", timeout=30)
        for user in self.users:
            with contextlib.suppress(OSError, TimeoutError):
                wait_for(lambda u=user: not self._has_server(u), 30, f"{user} stopped", 0.5)
            stop_kit_servers(self.home(user) / CLONE / ".atelier")
        if self.proc is not None:
            with contextlib.suppress(OSError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(OSError, ValueError):
            os.kill(int((self.root / "proxy.pid").read_text()), signal.SIGTERM)

    def _has_server(self, user: str) -> bool:
        status, info = self.api("GET", f"/hub/api/users/{user}")
        return status == 200 and bool(info.get("servers"))


def stop_kit_servers(workspace: Path) -> None:
    for advert in workspace.glob("sandbox-*.json"):
        with contextlib.suppress(OSError, ValueError, KeyError):
            os.kill(int(json.loads(advert.read_text())["pid"]), signal.SIGINT)


def kit_server_pids(workspace: Path) -> list[int]:
    pids = []
    for advert in workspace.glob("sandbox-*.json"):
        with contextlib.suppress(OSError, ValueError, KeyError):
            pids.append(int(json.loads(advert.read_text())["pid"]))
    return pids


@contextlib.contextmanager
def running_hub(root: Path, venv: Path, node: Path, speed: str = "1000") -> Iterator[Hub]:
    hub = Hub(root, venv, node, speed)
    try:
        hub.start()
        yield hub
    finally:
        hub.stop()


# --------------------------------------------------------------------------- a student


def pull_through_api(hub: Hub, user: str, repo_url: str) -> None:
    """What the README's link does, without a browser: nbgitpuller's event stream."""
    link = urllib.parse.urlsplit(link_for(hub.url, repo_url))
    query = dict(urllib.parse.parse_qsl(link.query))
    params = urllib.parse.urlencode({"repo": query["repo"], "branch": query["branch"]})
    request = urllib.request.Request(
        f"{hub.url}/user/{user}/git-pull/api?{params}",
        headers={"Authorization": f"token {hub.token}"},
    )
    with urllib.request.urlopen(request, timeout=180) as answer:  # noqa: S310
        stream = answer.read().decode(errors="replace")
    if '"phase": "finished"' not in stream:
        raise RuntimeError(f"nbgitpuller did not finish for {user}: {stream[-800:]}")


def _message(session: str, code: str) -> dict[str, Any]:
    return {
        "header": {
            "msg_id": uuid.uuid4().hex,
            "username": "student",
            "session": session,
            "msg_type": "execute_request",
            "version": "5.3",
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        },
        "parent_header": {},
        "metadata": {},
        "content": {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        },
        "channel": "shell",
        "buffers": [],
    }


def _decode(frame: str | bytes) -> dict[str, Any]:
    """A kernel message from the websocket: text, or Jupyter's binary framing (with buffers)."""
    if isinstance(frame, str):
        return json.loads(frame)
    count = int.from_bytes(frame[:4], "big")
    offsets = [int.from_bytes(frame[4 + 4 * i : 8 + 4 * i], "big") for i in range(count)]
    end = offsets[1] if count > 1 else len(frame)
    return json.loads(frame[offsets[0] : end])


def run_notebook_remotely(hub: Hub, user: str, path: str, timeout: float = 300) -> list[str]:
    """Open a session on the student's server (its kernel stays up) and run every code cell
    through the kernel websocket; returns the errors (empty: the notebook ran)."""
    import websocket  # websocket-client

    status, nb = hub.api("GET", f"/user/{user}/api/contents/{urllib.parse.quote(path)}?content=1")
    assert status == 200, (status, nb)
    status, session = hub.api(
        "POST",
        f"/user/{user}/api/sessions",
        {"path": path, "name": Path(path).name, "type": "notebook", "kernel": {"name": "python3"}},
    )
    assert status in (200, 201), (status, session)
    kernel = session["kernel"]["id"]
    ws_url = hub.url.replace("http://", "ws://") + f"/user/{user}/api/kernels/{kernel}/channels"
    ws = websocket.create_connection(
        f"{ws_url}?session_id={uuid.uuid4().hex}",
        header=[f"Authorization: token {hub.token}"],
        timeout=timeout,
    )
    errors: list[str] = []
    try:
        for cell in nb["content"]["cells"]:
            if cell["cell_type"] != "code" or not "".join(cell["source"]).strip():
                continue
            msg = _message(uuid.uuid4().hex, "".join(cell["source"]))
            ws.send(json.dumps(msg))
            replied = idle = False
            deadline = time.monotonic() + timeout
            while not (replied and idle):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{user} {path}: cell still running")
                answer = _decode(ws.recv())
                if answer.get("parent_header", {}).get("msg_id") != msg["header"]["msg_id"]:
                    continue
                kind = answer["msg_type"]
                if kind == "error":
                    errors.append(f"{answer['content']['ename']}: {answer['content']['evalue']}")
                elif kind == "execute_reply":
                    replied = True
                elif kind == "status" and answer["content"]["execution_state"] == "idle":
                    idle = True
            if errors:
                break
    finally:
        ws.close()
    return errors


# --------------------------------------------------------------------------- memory


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(x) for x in (task / "children").read_text().split()]
    return out


def tree(pid: int) -> set[int]:
    seen: set[int] = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        if p not in seen and Path(f"/proc/{p}").exists():
            seen.add(p)
            todo += _children(p)
    return seen


def pss_rss(pids: set[int]) -> tuple[int, int]:
    pss = rss = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
                elif line.startswith("Rss:"):
                    rss += int(line.split()[1]) * 1024
    return pss, rss


def student_memory(hub: Hub, user: str) -> tuple[int, int]:
    """(PSS, RSS) of the student's single-user server, its kernels and their kit server."""
    pids: set[int] = set()
    pid = hub.server_pid(user)
    if pid:
        pids |= tree(pid)
    for kit in kit_server_pids(hub.home(user) / CLONE / ".atelier"):
        pids |= tree(kit)
    return pss_rss(pids)


# --------------------------------------------------------------------------- Chromium

LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]


def chromium_path() -> str | None:
    return CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")


def browser_login(page: Any, hub: Hub, user: str) -> None:
    page.goto(f"{hub.url}/hub/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", "motdepasse")
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(re.compile(r".*/(user|hub)/.*"), timeout=120_000)


def browser_pull(page: Any, hub: Hub, user: str, repo_url: str) -> str:
    """Open the README's link; returns the URL JupyterLab lands on."""
    page.goto(link_for(hub.url, repo_url), timeout=180_000)
    page.wait_for_url(re.compile(r".*/lab/tree/.*00_bienvenue\.ipynb.*"), timeout=180_000)
    return page.url


# JupyterLab's own model of the open notebook (the page shows only the cells in view).
STATE = """() => {
  if (!window.jupyterapp) return null;
  const panel = window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.sessionContext) return null;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = panel.content.widgets.filter(w => w.model.type === 'code');
  return {
    path: panel.context.path,
    kernel: kernel ? kernel.status : null,
    counts: cells.map(w => w.model.executionCount),
    errors: cells.flatMap(w => w.model.outputs.toJSON())
      .filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue),
  };
}"""
RUN_ALL = "() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }"


def browser_run_notebook(page: Any, hub: Hub, user: str, name: str, timeout: float = 300) -> None:
    """Open a notebook in JupyterLab, Run All, wait until every code cell has run."""
    page.goto(f"{hub.url}/user/{user}/lab/tree/{CLONE}/notebooks/{name}", timeout=120_000)
    page.wait_for_function(
        f"() => {{ const s = ({STATE})(); return s && s.path.endsWith({name!r}) "
        "&& s.kernel === 'idle'; }",
        timeout=120_000,
    )
    page.evaluate(RUN_ALL)
    started = time.monotonic()
    while True:
        time.sleep(0.5)
        state = page.evaluate(STATE)
        if state["errors"]:
            raise AssertionError(f"{name} in Chromium: {state['errors']}")
        if all(state["counts"]) and state["kernel"] == "idle":
            return
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{name} still running in Chromium: {state}")


# --------------------------------------------------------------------------- students


def api_student(hub: Hub, user: str, out: dict) -> None:
    """A student through the REST and websocket API: spawn, pull, the 11 notebooks in order
    (each in its own kernel, none shut down). `out[user]`: ("ok", seconds) or ("failed", why)."""
    try:
        t0 = time.perf_counter()
        hub.spawn(user)
        pull_through_api(hub, user, hub.repo_url)
        for name in COURSE:
            errors = run_notebook_remotely(hub, user, f"{CLONE}/notebooks/{name}")
            if errors:
                raise AssertionError(f"{user} {name}: {errors}")
        out[user] = ("ok", time.perf_counter() - t0)
    except BaseException as exc:  # reported by the test
        out[user] = ("failed", repr(exc))


def browser_student(hub: Hub, user: str, out: dict) -> None:
    """A student in Chromium: logs in, opens the README's link, runs the 11 notebooks in
    JupyterLab (Run All), chats with the step-8 page behind the hub."""
    from playwright.sync_api import sync_playwright

    try:
        t0 = time.perf_counter()
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=chromium_path(),
                args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
                headless=True,
            )
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            browser_login(page, hub, user)
            hub.spawn(user)  # the login spawns it too; wait until it is ready
            landed = browser_pull(page, hub, user, hub.repo_url)
            assert f"/user/{user}/lab/tree/{CLONE}/notebooks/00_bienvenue.ipynb" in landed
            for name in COURSE:
                browser_run_notebook(page, hub, user, name)
                if name.startswith("08_"):
                    step8_page(page, user)
            page.screenshot(path=str(_artifact("hub-chromium-last-notebook.png")))
            browser.close()
        out[user] = ("ok", time.perf_counter() - t0)
    except BaseException as exc:
        out[user] = ("failed", repr(exc))


def _artifact(name: str) -> Path:
    (REPO / "test-artifacts").mkdir(exist_ok=True)
    return REPO / "test-artifacts" / name


def step8_page(page: Any, user: str) -> None:
    """Notebook 08 shows the page in an iframe served through jupyter-server-proxy."""
    frame_el = page.wait_for_selector(
        f".jp-NotebookPanel:not(.lm-mod-hidden) iframe[src*='/user/{user}/proxy/']", timeout=60_000
    )
    frame = frame_el.content_frame()
    frame.wait_for_selector("#status.status-ok", timeout=30_000)
    frame.fill("#input", "Bonjour")
    frame.click("#send")
    frame.wait_for_selector(".bubble-assistant:not(.bubble-pending)", timeout=30_000)
    assert "COUCOU" in frame.inner_text(".bubble-assistant:not(.bubble-pending)")
    page.screenshot(path=str(_artifact("hub-step8.png")))
