"""Long work off the caller's thread: progress reports, cooperative cancel, and the result or the error.

A UI (the Streamlit app) starts a :class:`Job` and polls it; the library function it runs receives a
:class:`Reporter` and calls it at natural points (an epoch, a query, a splitting round). Calling the reporter
raises :class:`Cancelled` once the user has asked to stop, so the work ends at the next report and whatever it has
already written (a run directory, a checkpoint) stays valid.

This is the one progress channel of the library: functions take ``reporter: Reporter | None`` and nothing else.
The CLI and notebooks pass :func:`progress_bar` (a terminal bar drawn from the same events), the app a
:class:`Job`'s reporter, and tests ``None`` or ``Reporter.silent()``.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Mapping, TypeVar

from lso.errors import LsoError

T = TypeVar("T")


class Cancelled(LsoError):
    """The user asked the work to stop; raised by a :class:`Reporter` at the next report."""


@dataclass(frozen=True)
class ProgressEvent:
    """One report: ``done`` of ``total`` units (epochs, queries, rounds), a short message, and figures to plot
    (e.g. ``{"loss": 0.31}``)."""

    done: int
    total: int
    message: str = ""
    figures: Mapping[str, float] = field(default_factory=dict)
    time_s: float = 0.0

    @property
    def fraction(self) -> float:
        """``done / total`` clipped to [0, 1] (0 when the total is unknown)."""
        return 0.0 if self.total <= 0 else min(max(self.done / self.total, 0.0), 1.0)


class Reporter:
    """Collects progress events and carries the cancel request.

    Thread-safe: the worker thread calls it, the UI thread reads ``events`` / ``latest``.
    """

    def __init__(self, on_event: Callable[[ProgressEvent], None] | None = None) -> None:
        self._events: list[ProgressEvent] = []
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._on_event = on_event
        self._start = time.perf_counter()

    @classmethod
    def silent(cls) -> "Reporter":
        """A reporter nobody reads and nobody cancels (the CLI and notebooks' default)."""
        return cls()

    def __call__(self, done: int, total: int, message: str = "", **figures: float) -> None:
        """Record progress; raise :class:`Cancelled` if a stop was requested."""
        event = ProgressEvent(int(done), int(total), message, dict(figures), time.perf_counter() - self._start)
        with self._lock:
            self._events.append(event)
        if self._on_event is not None:
            self._on_event(event)
        self.check()

    def check(self) -> None:
        """Raise :class:`Cancelled` if a stop was requested (call it inside loops that report rarely)."""
        if self._cancel.is_set():
            raise Cancelled("stopped at the user's request")

    def cancel(self) -> None:
        """Ask the work to stop at its next report."""
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    @property
    def elapsed(self) -> float:
        """Seconds since this reporter was made (the job's start)."""
        return time.perf_counter() - self._start

    @property
    def events(self) -> list[ProgressEvent]:
        """A copy of every event so far, oldest first."""
        with self._lock:
            return list(self._events)

    @property
    def latest(self) -> ProgressEvent | None:
        with self._lock:
            return self._events[-1] if self._events else None


class RelayReporter(Reporter):
    """A reporter for one part of a longer job: each of its events goes on to ``parent`` as
    ``parent(*transform(event))`` (``transform`` returns ``(done, total, message, figures)``, e.g. ``done`` shifted
    by the parts before), and it shares the parent's stop request."""

    def __init__(self, parent: Reporter,
                 transform: Callable[[ProgressEvent], tuple[int, int, str, Mapping[str, float]]]) -> None:
        super().__init__(on_event=self._forward)
        self._parent, self._transform = parent, transform

    def _forward(self, event: ProgressEvent) -> None:
        done, total, message, figures = self._transform(event)
        self._parent(done, total, message, **figures)

    def check(self) -> None:
        self._parent.check()
        super().check()


class ProgressBar(Reporter):
    """A reporter that draws its events as a tqdm bar (``done`` of ``total``, the message as the postfix).

    Use it as a context manager so the bar closes when the work ends or fails::

        with progress_bar("training") as reporter:
            train(config, reporter=reporter)
    """

    def __init__(self, description: str, unit: str = "it", enabled: bool = True) -> None:
        super().__init__(on_event=self._draw)
        self._description, self._unit, self._enabled = description, unit, enabled
        self._bar: Any = None

    def _draw(self, event: ProgressEvent) -> None:
        if not self._enabled:
            return
        if self._bar is None:
            from tqdm.auto import tqdm  # only where a bar is drawn

            self._bar = tqdm(total=event.total or None, desc=self._description, unit=self._unit, leave=False)
        if event.total and self._bar.total != event.total:
            self._bar.total = event.total
        self._bar.n = event.done
        if event.message:
            self._bar.set_postfix_str(event.message, refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        """Close the bar (idempotent)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress_bar(description: str, unit: str = "it", enabled: bool = True) -> ProgressBar:
    """A :class:`Reporter` for a terminal: a tqdm bar over its events (none drawn when ``enabled`` is false, e.g.
    ``--no-progress``); the CLI's and notebooks' way to pass ``reporter=``."""
    return ProgressBar(description, unit, enabled)


class Job(Generic[T]):
    """Run ``work(reporter)`` in a daemon thread.

    ``context`` is whatever the caller keeps with the job to show its result later (e.g. its inputs).
    ``state`` is ``"running"``, then ``"done"`` (``result`` set), ``"cancelled"`` or ``"failed"`` (``error`` holds
    the message; ``LsoError`` messages as they are, anything else with its traceback for a bug report).
    """

    def __init__(self, name: str, work: Callable[[Reporter], T], context: Any = None) -> None:
        self.name = name
        self.context = context  # what the UI needs to show the result (the inputs), kept with the job
        self.reporter = Reporter()
        self.result: T | None = None
        self.error: str | None = None
        self.state = "running"
        self._thread = threading.Thread(target=self._run, args=(work,), name=f"lso-job-{name}", daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[Reporter], T]) -> None:
        try:
            self.result = work(self.reporter)
            self.state = "done"
        except Cancelled:
            self.state = "cancelled"
        except LsoError as err:
            self.error, self.state = str(err), "failed"
        except Exception as err:  # noqa: BLE001 - a UI must show the failure, not lose it in a thread
            self.error, self.state = f"{type(err).__name__}: {err}\n{traceback.format_exc()}", "failed"

    @property
    def running(self) -> bool:
        return self.state == "running"

    def cancel(self) -> None:
        """Ask the work to stop at its next report (returns at once)."""
        self.reporter.cancel()

    def wait(self, timeout: float | None = None) -> str:
        """Block until the job ends (or ``timeout`` seconds pass); return its state."""
        self._thread.join(timeout)
        return self.state

    def describe(self) -> dict[str, Any]:
        """State, progress fraction and the latest message, for display."""
        last = self.reporter.latest
        return {"name": self.name, "state": self.state, "fraction": last.fraction if last else 0.0,
                "message": last.message if last else "", "error": self.error}


class JobBusyError(LsoError):
    """A job is still running under this key, or holds a folder the new job would write."""


class JobBoard:
    """The jobs of one workspace, shared by every session that shows it (a reload or a second browser tab finds
    the running job again, with its progress and Stop).

    Jobs are kept under a key (one per kind of work, e.g. ``"train_job"``); a key takes a new job only when its
    last one has ended. A job may *hold* paths (the run folder it writes): while it runs, no other job may start on
    them and ``holder(path)`` names it, so a UI can refuse to resume or delete that folder. Thread-safe. The app keeps
    one board per workspace for the server's lifetime; jobs do not survive a server restart (their files do).
    """

    def __init__(self) -> None:
        self._jobs: dict[str, Job[Any]] = {}
        self._holds: dict[str, tuple[str, ...]] = {}
        self._lock = threading.Lock()

    def start(self, key: str, name: str, work: Callable[[Reporter], T], *,
              holds: tuple[str | os.PathLike[str], ...] = (), context: Any = None) -> "Job[T]":
        """Start ``work(reporter)`` as the job under ``key``, holding ``holds`` while it runs (``context`` is kept as
        ``job.context``).

        Raises:
            JobBusyError: the key's job is still running, or a running job holds one of ``holds``.
        """
        wanted = tuple(_held(p) for p in holds)
        with self._lock:
            current = self._jobs.get(key)
            if current is not None and current.running:
                raise JobBusyError(f"{current.name} is still running: stop it or wait until it ends")
            for other_key, paths in self._holds.items():
                other = self._jobs[other_key]
                clash = sorted(set(paths) & set(wanted))
                if other.running and clash:
                    raise JobBusyError(f"{other.name} is writing {clash[0]}: stop it or wait until it ends")
            job: Job[T] = Job(name, work, context)
            self._jobs[key], self._holds[key] = job, wanted
            return job

    def get(self, key: str) -> "Job[Any] | None":
        """The job under ``key`` (running or ended), or None."""
        with self._lock:
            return self._jobs.get(key)

    def dismiss(self, key: str) -> None:
        """Forget the ended job under ``key`` (a running job stays: stop it first)."""
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and not job.running:
                del self._jobs[key]
                self._holds.pop(key, None)

    def holder(self, path: str | os.PathLike[str]) -> "Job[Any] | None":
        """The running job that holds ``path``, or None."""
        target = _held(path)
        with self._lock:
            for key, paths in self._holds.items():
                if target in paths and self._jobs[key].running:
                    return self._jobs[key]
        return None


def _held(path: str | os.PathLike[str]) -> str:
    return os.path.realpath(os.fspath(path))
