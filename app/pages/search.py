import streamlit as st
from common.data import hello

st.title("search")
st.write(hello())
