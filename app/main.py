"""lso workbench: the Streamlit entry point (``make run`` / ``lso app``). Pages live in ``views/`` (not ``pages/``, which Streamlit would also auto-list), shared widgets
in ``common/``; every figure comes from the ``lso`` library."""

import importlib
import threading
from pathlib import Path

import streamlit as st

# A local image: an emoji or material icon would make the browser fetch the favicon from an outside server.
st.set_page_config(page_title="lso workbench", page_icon=str(Path(__file__).with_name("favicon.png")), layout="wide")

PAGES = [
    st.Page("views/benchmark.py", title="Benchmark", icon=":material/table_chart:", default=True),
    st.Page("views/train.py", title="Train", icon=":material/model_training:"),
    st.Page("views/latent.py", title="Latent space", icon=":material/scatter_plot:"),
    st.Page("views/search.py", title="Search", icon=":material/travel_explore:"),
    st.Page("views/refine.py", title="Refine", icon=":material/call_split:"),
    st.Page("views/spaces.py", title="Other spaces", icon=":material/hub:"),
]



@st.cache_resource(show_spinner=False)
def _warm_model_imports() -> None:
    """Once per server, after the first page is drawn: import torch and the G-VAE code in the background, so the
    first page does not wait for them and the Latent, Search and Refine pages find them loaded."""
    threading.Thread(target=importlib.import_module, args=("lso.models.workbench",), daemon=True).start()


st.navigation(PAGES).run()
_warm_model_imports()
