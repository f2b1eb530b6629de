"""The Streamlit workbench's library side: engine sharing, cached queries, URL state.

Importing this package registers `python -m segwork run` (segwork.workbench.cli); the rest is
imported by app.py and pages/ and needs Streamlit.
"""
from segwork.workbench import cli  # noqa: F401  (registers the `run` command)
