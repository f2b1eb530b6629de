"""API: how to call this workbench's HTTP API, its admin token (masked until revealed), the tokens."""
import streamlit as st

from segwork.workbench import apiaccess, ui

st.title("API")
st.markdown("This workbench serves segwork's HTTP API in the same process, on the same database: the tutorial's "
            "Events API, Data Sources API and pipe endpoints, as Tinybird's clients call them (only the host "
            "changes). Every request needs a token (`Authorization: Bearer <token>` or `?token=<token>`).")
with ui.errors():
    access = apiaccess.access(st.context.url)
    st.markdown(f"**Base URL:** `{access.api}`")
    if access.problem:
        st.warning(access.problem, icon=":material/key_off:")
    else:
        st.markdown(f"**Admin token** (it may do everything; kept in `{access.token_file}`, readable only by you)")
        if st.toggle("Show the admin token", key="api_reveal"):
            st.code(access.secret, language=None)  # with Streamlit's copy button
        else:
            st.markdown(f"`{access.masked}`")
    st.markdown("**With curl** (the first line reads the token from its file):")
    st.code(access.curl, language="bash", wrap_lines=True)
    st.markdown("While the workbench runs, `python -m segwork info`, `query`, `token` and `ingest` go through this "
                "API with the admin token, so they work beside it.")

st.subheader("Tokens")
with ui.errors():
    ui.table(apiaccess.token_table(), key="api_tokens")
st.caption("Only a SHA-256 of each token is stored. Create and revoke tokens with "
           "`python -m segwork token create NAME --scope SCOPE` / `token revoke NAME`, or POST and DELETE "
           "/v0/tokens with the admin token.")
