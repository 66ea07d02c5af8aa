"""A text box where the user names one cell (an official arch string or an official index), and the cells the
user's last search found, which the Refine page offers as starting points."""

from __future__ import annotations

import streamlit as st

from lso.errors import ArchStringError
from lso.space import Cell, cell_from_index

_HELP = ("An arch string such as |nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|nor_conv_1x1~1|"
         "nor_conv_3x3~2| or an official index 0..15624")


def parse_cell_text(text: str) -> Cell:
    """An official NAS-Bench-201 arch string or an official index (digits) -> Cell; ``ArchStringError`` naming the
    problem otherwise."""
    text = text.strip()
    if not text:
        raise ArchStringError("no architecture given: type an arch string |op~0|+|op~0|op~1|+|op~0|op~1|op~2| "
                              "or an official index")
    return cell_from_index(int(text)) if text.isdigit() else Cell.from_string(text)


def cell_input(label: str, default: str, key: str) -> Cell | None:
    """A text input for one cell; shows ``st.error`` and returns None when the text is not a cell."""
    text = st.text_input(label, value=default, key=key, help=_HELP)
    try:
        return parse_cell_text(text)
    except ArchStringError as err:
        st.error(f"{label}: {err}")
        return None


FOUND_KEY = "found_cells"  # session state: label -> arch string of the best cell per method of the last search


def remember_found(found: dict[str, str]) -> None:
    """Keep the last search's best cells (label -> arch) for the Refine page of this browser session."""
    st.session_state[FOUND_KEY] = dict(found)


def found_cells() -> dict[str, str]:
    """The cells ``remember_found`` kept in this session (empty before any search)."""
    return dict(st.session_state.get(FOUND_KEY, {}))


REFINE_REQUEST = "refine_request"  # session state: a cell another page sends to Refine (taken by the Refine page)


def cell_panel(cell: Cell, table, *, start_key: str | None = None, end_key: str | None = None,
               key: str = "cell_panel") -> None:
    """The clicked cell: its string, its table row, and where to take it (the Latent page's path start or end when
    ``start_key``/``end_key`` name its text boxes, and Refine). ``key`` keeps several panels on a page apart."""
    from lso.space import index_of

    arch = cell.to_string()
    st.markdown(f"**Cell {index_of(cell)}** `{arch}`")
    row = table.row(cell)
    st.dataframe([{k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()}], hide_index=True)

    def put(target: str) -> None:  # a callback: it runs before the next run draws the text boxes
        st.session_state[target] = arch

    a, b, c = st.columns(3)
    if start_key is not None:
        a.button("Use as path start", key=f"{key}_start", on_click=put, args=(start_key,))
    if end_key is not None:
        b.button("Use as path end", key=f"{key}_end", on_click=put, args=(end_key,))
    if c.button("Refine this cell", key=f"{key}_refine", icon=":material/call_split:"):
        st.session_state[REFINE_REQUEST] = arch
        st.switch_page("views/refine.py")
