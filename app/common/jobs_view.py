"""A background ``lso.jobs.Job`` on a page: start it, watch it, stop it, from any session of the workspace.

Usage on a page::

    from common.jobs_view import job_panel, start_job

    if st.button("Train"):
        start_job("train_job", "train run1", lambda reporter: train_run(..., reporter=reporter), holds=(run_dir,))
    job = job_panel("train_job", live=lambda job: st.plotly_chart(curves(job.reporter.events)))
    if job is not None and job.state == "done":
        st.write(job.result)

* Jobs live on the workspace's ``lso.jobs.JobBoard``, kept by the server (``st.cache_resource``), not in a browser
  session: a reload or a second tab finds the running job again, with its progress and Stop.
* ``start_job(key, name, work, holds=())`` runs ``work(reporter)`` in a thread as the key's job. It refuses
  (``JobBusyError``) while that key's job still runs, or while another job holds one of ``holds`` (the folder it
  writes); ``holder(path)`` names the running job holding a folder, so a page can refuse to resume or delete it.
* ``job_panel(key, live=None, every=1.0)`` draws the key's job: while it runs, a fragment that reruns every
  ``every`` seconds shows a progress bar with the elapsed time, the latest message, ``live(job)`` and a Stop button
  (the work ends at its next report); when the job ends the whole page reruns once, so widgets outside the panel
  (e.g. a list of runs) see its outcome. Afterwards: a success / warning (stopped) / ``st.error`` line, ``live(job)``
  and a Dismiss button. Returns the Job, or None when there is none (or it was dismissed).
* ``current_job(key)`` returns the Job without drawing; ``is_running(key)`` says whether it still runs.
"""

from __future__ import annotations

from typing import Callable, TypeVar

import streamlit as st

from common.data import workspace

from lso.jobs import Job, JobBoard, JobBusyError, Reporter

T = TypeVar("T")
__all__ = ["JobBusyError", "board", "current_job", "holder", "is_running", "job_panel", "start_job",
           "start_saved_job"]


@st.cache_resource(show_spinner=False)
def _board(root: str) -> JobBoard:
    return JobBoard()


def board() -> JobBoard:
    """The job board of the current workspace (one per server and workspace)."""
    return _board(str(workspace()))


def current_job(key: str) -> Job | None:
    """The Job kept under ``key`` on the workspace's board, if any."""
    return board().get(key)


def holder(path) -> Job | None:
    """The running job that writes ``path``, if any."""
    return board().holder(path)


def is_running(key: str) -> bool:
    job = current_job(key)
    return job is not None and job.running


def start_job(key: str, name: str, work: Callable[[Reporter], T], holds: tuple = (), context=None) -> Job[T]:
    """Start ``work(reporter)`` in a background thread as the key's job (replacing an ended one), holding ``holds``;
    ``context`` (e.g. the inputs, to draw the result) stays with the job for every session."""
    job: Job[T] = board().start(key, name, work, holds=holds, context=context)
    st.session_state[_seen(key)] = True
    return job


def start_saved_job(key: str, name: str, work: Callable[[Reporter], T], save: Callable[[T], object],
                    context: dict) -> Job[T]:
    """``start_job`` for work whose result is kept in the workspace: when ``work`` succeeds, ``save(result)`` runs in
    the job too (so the result is saved whoever watches) and its return (the folder) is ``context["saved"]``."""
    context.setdefault("saved", None)

    def run(reporter: Reporter) -> T:
        result = work(reporter)
        context["saved"] = save(result)
        return result

    return start_job(key, name, run, context=context)


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
    st.session_state[_seen(key)] = True  # this session watched it run (also after a reload): rerun once at the end
    info = job.describe()
    stopping = job.reporter.cancel_requested
    elapsed, fraction = job.reporter.elapsed, info["fraction"]
    eta = f", about {_clock(elapsed * (1 - fraction) / fraction)} left" if 0.02 <= fraction < 1 else ""
    text = (f"{job.name} ({_clock(elapsed)} elapsed{eta}): "
            f"{'stopping at the next step...' if stopping else info['message'] or 'starting...'}")
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
        board().dismiss(key)
        st.rerun()


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}" if minutes < 60 else f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


def _seen(key: str) -> str:
    """Session key of the flag 'the panel has drawn this job running' (so its end reruns the page once)."""
    return f"{key}:seen_running"
