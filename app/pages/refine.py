import streamlit as st
from common.data import hello

st.title("refine")
st.write(hello())
