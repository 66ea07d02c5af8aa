import streamlit as st
from common.data import hello

st.title("benchmark")
st.write(hello())
