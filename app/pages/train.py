import streamlit as st
from common.data import hello

st.title("train")
st.write(hello())
