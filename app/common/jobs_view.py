"""A background ``lso.jobs.Job`` on a page: start it, watch it, stop it.

Usage on a page::

    from common.jobs_view import job_panel, start_job

    if st.button("Train"):
        start_job("train_job", "train run1", lambda reporter: train_run(..., reporter=reporter))
    job = job_panel("train_job", live=lambda job: st.plotly_chart(curves(job.reporter.events)))
    if job is not None and job.state == "done":
        st.write(job.result)

* ``start_job(key, name, work)`` runs ``work(reporter)`` in a thread and keeps the Job in ``st.session_state[key]``
  (one browser session never sees another's jobs). It refuses (``JobBusyError``) while that key's job still runs.
* ``job_panel(key, live=None, every=1.0)`` draws the Job kept under ``key``: while it runs, a fragment that reruns
  every ``every`` seconds shows a progress bar with the latest message, ``live(job)`` and a Stop button (the work
  ends at its next report); when the job ends the whole page reruns once, so widgets outside the panel (e.g. a list
  of runs) see its outcome. Afterwards: a success / warning (stopped) / ``st.error`` line, ``live(job)`` and a
  Dismiss button. Returns the Job, or None when there is none (or it was dismissed).
* ``current_job(key)`` returns the Job without drawing; ``is_running(key)`` says whether it still runs.
"""

from __future__ import annotations

from typing import Callable, TypeVar

import streamlit as st

from lso.errors import LsoError
from lso.jobs import Job, Reporter

T = TypeVar("T")


class JobBusyError(LsoError):
    """A job under this key is still running (stop it or wait for it first)."""


def current_job(key: str) -> Job | None:
    """The Job kept under ``key`` in this session, if any."""
    job = st.session_state.get(key)
    return job if isinstance(job, Job) else None


def is_running(key: str) -> bool:
    job = current_job(key)
    return job is not None and job.running


def start_job(key: str, name: str, work: Callable[[Reporter], T]) -> Job[T]:
    """Start ``work(reporter)`` in a background thread, kept as ``st.session_state[key]`` (replacing an ended job)."""
    if is_running(key):
        raise JobBusyError(f"{current_job(key).name} is still running: stop it or wait until it ends")
    job: Job[T] = Job(name, work)
    st.session_state[key] = job
    st.session_state[_seen(key)] = True
    return job


def job_panel(key: str, live: Callable[[Job], None] | None = None, every: float = 1.0) -> Job | None:
    """Draw the Job kept under ``key`` (see the module docstring); returns it, or None."""
    job = current_job(key)
    if job is None:
        return None

    @st.fragment(run_every=every if job.running else None)
    def panel() -> None:
        now = current_job(key)
        if now is None:
            return
        if now.running:
            _running(key, now, live)
            return
        if st.session_state.get(_seen(key)):  # it ended since the last draw: refresh the whole page once
            st.session_state[_seen(key)] = False
            st.rerun()
        _ended(key, now, live)

    panel()
    return current_job(key)


def _running(key: str, job: Job, live: Callable[[Job], None] | None) -> None:
    info = job.describe()
    stopping = job.reporter.cancel_requested
    text = f"{job.name}: {'stopping at the next step...' if stopping else info['message'] or 'starting...'}"
    st.progress(info["fraction"], text=text)
    if live is not None:
        live(job)
    if st.button("Stop", key=f"{key}:stop", disabled=stopping, icon=":material/stop_circle:"):
        job.cancel()
        st.rerun(scope="fragment")


def _ended(key: str, job: Job, live: Callable[[Job], None] | None) -> None:
    if job.state == "done":
        st.success(f"{job.name}: finished")
    elif job.state == "cancelled":
        st.warning(f"{job.name}: stopped")
    else:
        message, marker, details = (job.error or "unknown error").partition("\nTraceback (most recent call last):")
        st.error(f"{job.name} failed: {message}")
        if marker:  # an unexpected exception (not an LsoError): its traceback, folded, for a bug report
            with st.expander("details for a bug report"):
                st.code(marker.strip() + details)
    if live is not None:
        live(job)
    if st.button("Dismiss", key=f"{key}:dismiss"):
        st.session_state.pop(key, None)
        st.rerun()


def _seen(key: str) -> str:
    """Session key of the flag 'the panel has drawn this job running' (so its end reruns the page once)."""
    return f"{key}:seen_running"
