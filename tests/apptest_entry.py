"""AppTest's entry to the workbench: runs app.py as its own script from a folder without pages/.

AppTest (Streamlit 1.67) takes the legacy pages/-folder route when the script it is given sits
next to a pages/ folder, and then runs a page without app.py (no navigation, no sidebar).
"""
import runpy

from segwork.config import PROJECT_DIR

runpy.run_path(str(PROJECT_DIR / "app.py"), run_name="__main__")
