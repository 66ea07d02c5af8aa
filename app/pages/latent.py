import streamlit as st
from common.data import hello

st.title("latent")
st.write(hello())
