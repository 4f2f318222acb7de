# The seed's example (st.logout's reference page), with today's `st.user`: what make bench
# measures this project's sign-in against (site.bench.ts).
import streamlit as st

if not st.user.is_logged_in:
    if st.button("Log in"):
        st.login()
else:
    if st.button("Log out"):
        st.logout()
    st.write(f"Hello, {st.user.name}!")
