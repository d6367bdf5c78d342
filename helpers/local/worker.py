"""The local engine's job queue and its background worker process.

- `LocalQueue(home)` (`helpers.local.queue`): a small SQLite database in the workspace
  (`local/queue.sqlite3`): jobs, their events and checkpoints. Any process may enqueue, read
  or cancel; only the worker trains.
- The worker (`python -m helpers.local.worker --home DIR`) is a separate **process**, one
  per workspace (an exclusive lock file), that takes queued jobs one at a time, oldest
  first, so a job really goes queued → running → succeeded / failed / cancelled. It writes
  the events (real API wording), checkpoints, the results CSV and the fine-tuned model's
  folder. It exits after `IDLE_EXIT` seconds without work; `ensure_worker(home)` starts it
  again when a job is queued.
- Cancel sets a flag that the training loop reads before every step: training really stops.
  A worker that died mid-job (killed, machine asleep) leaves a `running` job: the next
  worker marks it failed, since nobody else can be training it.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from .. import settings
from ..fileio import write_atomic
from . import events as texts
from .queue import TERMINAL, Checkpoint, Event, LocalJob, LocalQueue, local_dir
from .train import Callbacks
from .turns import Turns

IDLE_EXIT = settings.DEFAULT_WORKER_IDLE  # seconds without work before the worker exits
STARTUP_GRACE = 30.0
POLL = 0.2

# The queue's names, still importable from here (bench scripts, tests).
__all__ = ["TERMINAL", "Checkpoint", "Event", "LocalJob", "LocalQueue", "local_dir"]


# ---------------------------------------------------------------- the worker process
def _worker_lock(home: str | Path) -> FileLock:
    """The workspace's worker lock: held by its worker for the process's life (`filelock`:
    an exclusive lock on POSIX and Windows alike)."""
    return FileLock(local_dir(home) / "worker.lock")


def worker_running(home: str | Path) -> bool:
    """True when a worker holds this workspace's lock."""
    lock = _worker_lock(home)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    lock.release()
    return False


def ensure_worker(home: str | Path) -> bool:
    """Start the workspace's worker process if it is not running. True if one was started."""
    home = Path(home)
    if worker_running(home):
        return False
    marker = local_dir(home) / "worker.pid"
    with contextlib.suppress(OSError, ValueError):
        pid, started = marker.read_text().split()
        if time.time() - float(started) < STARTUP_GRACE and _alive(int(pid)):
            return False  # started a moment ago, not holding the lock yet
    from ..settings import package_dir

    env = dict(os.environ)
    root = str(package_dir().parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    # Threads that wait for a busy core sleep instead of spinning (a shared or busy machine).
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    log = open(local_dir(home) / "worker.log", "ab")  # noqa: SIM115 - handed to the child
    kwargs: dict[str, Any] = (
        {"start_new_session": True}
        if os.name != "nt"
        else {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
    )
    idle = f"{settings.current().local_worker_idle:g}"
    process = subprocess.Popen(
        [sys.executable, "-m", "helpers.local.worker", "--home", str(home), "--idle-exit", idle],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=root,
        **kwargs,
    )
    log.close()
    write_atomic(marker, f"{process.pid} {time.time()}")
    return True


def prewarm(home: str | Path) -> bool:
    """Start the workspace's worker ahead of a job (e.g. when a training file is uploaded):
    it imports torch, transformers and peft while it waits, so the job that follows starts
    training several seconds sooner. True if a worker was started."""
    return ensure_worker(home)


def _warm_imports() -> None:
    """What every job needs first (≈ 5 s on a 2-core CPU): done while no job is queued."""
    with contextlib.suppress(Exception):
        import peft  # noqa: F401
        import torch  # noqa: F401
        import transformers  # noqa: F401


def stop_worker(home: str | Path, timeout: float = 10.0) -> bool:
    """Stop the workspace's worker (SIGTERM; a job it was training ends as failed). True if
    a worker was running."""
    if not worker_running(home):
        return False
    with contextlib.suppress(OSError, ValueError):
        pid = int((local_dir(home) / "worker.pid").read_text().split()[0])
        if os.name == "nt":
            subprocess.run(["taskkill", "/PID", str(pid), "/F"], capture_output=True, check=False)
        else:
            import signal

            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while worker_running(home) and time.monotonic() < deadline:
        time.sleep(0.05)
    return True


def _alive(pid: int) -> bool:
    if os.name == "nt":
        return True  # within the grace period, assume it is starting
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child (exited, not reaped) still "exists": check its state when we can.
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    return True


class _JobCallbacks(Callbacks):
    """Training hooks writing events, checkpoints and progress into the queue."""

    def __init__(self, queue: LocalQueue, job: LocalJob) -> None:
        self.queue, self.job = queue, job
        self.name = job.request["fine_tuned_model"]
        self.base_label = job.model
        self.started = time.time()
        self._last_check = 0.0
        self._stop = False

    def on_start(self, info: Any) -> None:
        self.queue.add_event(
            self.job.id,
            texts.training_of(
                self.base_label,
                info.device,
                info.n_examples,
                info.total_steps,
                info.trainable_parameters,
                info.total_parameters,
            ),
        )
        if info.skipped_examples:
            self.queue.add_event(
                self.job.id, texts.nothing_to_learn(info.skipped_examples), level="warn"
            )

    def on_step(self, m: Any) -> None:
        text = f"Step {m.step}/{m.total_steps}: training loss={m.train_loss:.2f}"
        if m.valid_loss is not None:
            text += f", validation loss={m.valid_loss:.2f}"
        if m.full_valid_loss is not None:
            text += f", full validation loss={m.full_valid_loss:.2f}"
        eta = self.started + m.elapsed / m.step * m.total_steps if m.step else None
        with self.queue._tx() as c:
            self.queue.add_event(self.job.id, text, type="metrics", data=m.data(), conn=c)
            c.execute(
                "UPDATE jobs SET trained_tokens = ?, estimated_finish = ? WHERE id = ?",
                (m.trained_tokens, eta, self.job.id),
            )

    def on_checkpoint(self, step: int, path: Path, m: Any) -> None:
        keep = 3
        name = f"{self.name}:ckpt-step-{step}"
        metrics = m.data()
        with self.queue._tx() as c:
            c.execute(
                "INSERT INTO checkpoints (job_id, created_at, step, name, path, metrics) VALUES (?, ?, ?, ?, ?, ?)",
                (self.job.id, time.time(), step, name, str(path), json.dumps(metrics)),
            )
            c.execute(
                "DELETE FROM checkpoints WHERE job_id = ? AND seq NOT IN (SELECT seq FROM checkpoints "
                "WHERE job_id = ? ORDER BY seq DESC LIMIT ?)",
                (self.job.id, self.job.id, keep),
            )
            self.queue.add_event(self.job.id, f"Checkpoint created at step {step}", conn=c)

    def on_early_stop(self, m: Any, train_set_loss: float) -> None:
        self.queue.add_event(
            self.job.id, texts.stopped_early(m.step, m.total_steps, train_set_loss)
        )

    def on_converting(self, stage: str) -> None:
        self.queue.add_event(self.job.id, texts.converting(self.base_label, stage))

    def should_stop(self) -> bool:
        now = time.monotonic()
        if not self._stop and now - self._last_check >= 0.05:
            self._last_check = now
            job = self.queue.get(self.job.id)
            self._stop = job is None or job.cancel_requested
        return self._stop


def resolve_hyperparameters(
    request: dict[str, Any], n_examples: int, learning_rate: float
) -> dict[str, Any]:
    """`auto` → numbers, as the real API reports them (epochs and batch size heuristics)."""
    from .. import models

    hp = request.get("hyperparameters") or {}

    def pick(name: str, auto: Any) -> Any:
        value = hp.get(name, "auto")
        return auto if value in (None, "auto") else value

    return {
        "n_epochs": int(pick("n_epochs", models.auto_epochs(n_examples))),
        "batch_size": int(pick("batch_size", models.auto_batch_size(n_examples))),
        "learning_rate_multiplier": float(pick("learning_rate_multiplier", 1.0)),
        "base_learning_rate": learning_rate,
    }


def job_config(
    request: dict[str, Any], n_examples: int, model: Any, base: str, output_dir: Path
) -> tuple[Any, dict[str, Any]]:
    """How a job trains: (`train.TrainConfig`, the resolved hyperparameters the API shows).
    `request`: the job's (hyperparameters, seed); `model`: its `catalog.LocalModel`; `base`:
    what `from_pretrained` takes. The job's seed makes the run repeatable (`train`)."""
    from . import catalog
    from .train import TrainConfig

    lora = catalog.lora_defaults(n_examples, model)
    hp = resolve_hyperparameters(request, n_examples, lora.learning_rate)
    config = TrainConfig(
        base=base,
        output_dir=output_dir,
        n_epochs=hp["n_epochs"],
        batch_size=hp["batch_size"],
        learning_rate=lora.learning_rate * hp["learning_rate_multiplier"],
        lora_r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,
        seed=request.get("seed") or 0,
        progress=False,
    )
    return config, hp


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def run_job(queue: LocalQueue, job: LocalJob) -> None:
    """Train one claimed (running) job to its end, whatever happens."""
    from . import catalog
    from .train import Cancelled, train

    folder = queue.job_dir(job.id)
    callbacks = _JobCallbacks(queue, job)
    try:
        examples = _read_jsonl(folder / "train.jsonl")
        validation = _read_jsonl(folder / "valid.jsonl")
        from . import preference

        if preference.is_preference_job(job.request):  # pairs (DPO): their own trainer
            train = preference.trainer_for(job.request)  # noqa: F811 - same signature
        model = catalog.resolve(job.model)
        callbacks.base_label = model.id
        base = catalog.model_path(model, on_stage=callbacks.on_converting)
        config, hp = job_config(job.request, len(examples), model, base, folder / "model")
        with queue._tx() as c:
            c.execute("UPDATE jobs SET hyperparameters = ? WHERE id = ?", (json.dumps(hp), job.id))
        result = train(examples, config, validation=validation, callbacks=callbacks)
        write_atomic(folder / "results.csv", queue.results_csv(job.id))
        with queue._tx() as c:
            c.execute(
                "UPDATE jobs SET status = 'succeeded', finished_at = ?, trained_tokens = ?, "
                "fine_tuned_model = ? WHERE id = ?",
                (time.time(), result.trained_tokens, callbacks.name, job.id),
            )
            queue.add_event(job.id, f"New fine-tuned model created: {callbacks.name}", conn=c)
            queue.add_event(job.id, texts.SUCCEEDED, conn=c)
    except Cancelled:
        with queue._tx() as c:
            c.execute(
                "UPDATE jobs SET status = 'cancelled', finished_at = ? WHERE id = ?",
                (time.time(), job.id),
            )
            queue.add_event(job.id, texts.CANCELLED, conn=c)
    except (KeyboardInterrupt, SystemExit):  # the worker is being stopped: say so, then go
        error: dict[str, Any] = {
            "code": "server_error",
            "param": None,
            "message": texts.WORKER_STOPPED,
        }
        with queue._tx() as c:
            c.execute(
                "UPDATE jobs SET status = 'failed', finished_at = ?, error = ? WHERE id = ? AND status = 'running'",
                (time.time(), json.dumps(error), job.id),
            )
            queue.add_event(job.id, error["message"], level="error", conn=c)
        raise
    except Exception as exc:
        from .catalog import LocalModelError

        traceback.print_exc()
        if isinstance(exc, LocalModelError):
            # the job's error is the kit's own French explanation, with the way out; the
            # event stays in the API's language, like every other event
            code, message = "model_unavailable", str(exc)
            event = texts.model_unavailable(callbacks.base_label)
        else:
            code = "server_error"
            message = event = texts.failed(type(exc).__name__, str(exc))
        with queue._tx() as c:
            c.execute(
                "UPDATE jobs SET status = 'failed', finished_at = ?, error = ? WHERE id = ?",
                (
                    time.time(),
                    json.dumps({"code": code, "message": message, "param": None}),
                    job.id,
                ),
            )
            queue.add_event(job.id, event, level="error", conn=c)


def _cancel_asked(queue: LocalQueue, job_id: str) -> bool:
    job = queue.get(job_id)
    return job is None or job.cancel_requested


def cancel_queued(queue: LocalQueue, job_id: str) -> None:
    """A job cancelled while it waited for its turn never trains."""
    with queue._tx() as c:
        changed = c.execute(
            "UPDATE jobs SET status = 'cancelled', finished_at = ? WHERE id = ? AND status = 'queued'",
            (time.time(), job_id),
        ).rowcount
        if changed:
            queue.add_event(job_id, texts.CANCELLED, conn=c)


def claim(queue: LocalQueue) -> LocalJob | None:
    """Move the oldest queued job to running (atomically). None when nothing is queued."""
    with queue._tx() as c:
        row = c.execute(
            "SELECT id FROM jobs WHERE status = 'queued' ORDER BY seq LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        c.execute(
            "UPDATE jobs SET status = 'running', started_at = ?, worker_pid = ? WHERE id = ?",
            (time.time(), os.getpid(), row[0]),
        )
        queue.add_event(row[0], texts.STARTED, conn=c)
    return queue.get(row[0])


def fail_orphans(queue: LocalQueue) -> None:
    """Jobs left `running` by a dead worker (we hold the lock: nobody else trains them)."""
    with queue._tx() as c:
        rows = c.execute(
            "SELECT id, cancel_requested, worker_pid FROM jobs WHERE status = 'running'"
        ).fetchall()
        for job_id, cancelled, pid in rows:
            if pid and pid != os.getpid() and _alive(pid):
                continue  # a worker of a workspace folder that was moved or recreated
            if cancelled:
                c.execute(
                    "UPDATE jobs SET status = 'cancelled', finished_at = ? WHERE id = ?",
                    (time.time(), job_id),
                )
                queue.add_event(job_id, texts.CANCELLED, conn=c)
                continue
            error: dict[str, Any] = {
                "code": "server_error",
                "param": None,
                "message": texts.WORKER_DIED,
            }
            c.execute(
                "UPDATE jobs SET status = 'failed', finished_at = ?, error = ? WHERE id = ?",
                (time.time(), json.dumps(error), job_id),
            )
            queue.add_event(job_id, error["message"], level="error", conn=c)


def serve(home: str | Path, *, idle_exit: float = IDLE_EXIT, once: bool = False) -> int:
    """The worker's loop. Returns 0, or 1 when another worker already serves `home`."""
    lock = _worker_lock(home)  # held until the process exits
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return 1
    if os.name != "nt":
        import signal

        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    settings.put(home=Path(home).resolve())  # e.g. where "tiny" is built
    queue = LocalQueue(home)
    fail_orphans(queue)
    turns = Turns.from_env()  # class mode: one GPU, students take turns
    warm = once
    idle_since = time.monotonic()
    while True:
        if turns is not None:
            waiting = queue.next_queued()
            if waiting is not None and not turns.wait(
                waiting.id,
                Path(home).name,
                cancelled=functools.partial(_cancel_asked, queue, waiting.id),
            ):
                cancel_queued(queue, waiting.id)
                continue
        job = claim(queue)
        if job is not None:
            try:
                run_job(queue, job)
            finally:
                if turns is not None:
                    turns.done(job.id)
            idle_since = time.monotonic()
            continue
        if once or time.monotonic() - idle_since > idle_exit:
            return 0
        if not warm:
            _warm_imports()
            warm = True
            continue
        time.sleep(POLL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Atelier: local fine-tuning worker (one per workspace)."
    )
    parser.add_argument("--home", required=True, help="workspace folder")
    parser.add_argument(
        "--idle-exit", type=float, default=IDLE_EXIT, help="seconds without work before exiting"
    )
    parser.add_argument("--once", action="store_true", help="exit as soon as the queue is empty")
    args = parser.parse_args(argv)
    return serve(args.home, idle_exit=args.idle_exit, once=args.once)


if __name__ == "__main__":
    sys.exit(main())
