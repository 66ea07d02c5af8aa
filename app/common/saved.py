"""The searches and refinements kept in the workspace (``lso.report.saved``), listed under a page's job."""

from __future__ import annotations

import streamlit as st
from common.data import workspace

from lso.report.saved import list_saved


def saved_results(kind: str) -> None:
    """A folded list of the saved ``kind`` ("searches" or "refinements"), newest first."""
    saved = list_saved(workspace(), kind)
    with st.expander(f"Saved {kind} in the workspace ({len(saved)})"):
        if not saved:
            st.caption(f"None yet: every finished job is saved in `{workspace() / kind}`.")
            return
        st.dataframe([{"name": s.name, "files": ", ".join(s.files), "folder": str(s.path)} for s in saved],
                     hide_index=True)
