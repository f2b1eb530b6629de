"""`python -m segwork run` (what `make run` starts): the workbench, demo data on first start.

Everything runs in this one process: the embedded database admits one process only, so the
demo data is loaded here first and Streamlit is then started in-process (not as a child),
where the app's clients open the same database.
"""
from __future__ import annotations

import socket
import sys

from segwork import demo, overview
from segwork.api import local
from segwork.cli import command
from segwork.config import PROJECT_DIR, Settings
from segwork.db import connect, describe_engine
from segwork.errors import ConfigError

APP = PROJECT_DIR / "app.py"


@command("run", "Start the workbench (Streamlit) and print its URL; loads demo data when the database is empty.")
def run_workbench(args, settings: Settings) -> int:
    address = args.address or settings.workbench_address
    port = settings.workbench_port if args.port is None else args.port
    check_port_free(address, port)
    client = connect(settings=settings)
    if not args.no_demo and overview.is_empty(client):
        load_demo(client, settings)
    print(describe_engine(client))
    url = local_url(address, port)
    admin = local.ensure_admin_token(client, settings, renew=args.new_admin_token)
    local.publish(settings, url)
    try:
        print(f"segwork API: {url}/v0/  admin token in {admin.path} (readable only by you; {admin.story})\n"
              "  the workbench's API page shows how to call it; while this runs, `python -m segwork info`, `query`, "
              "`token` and `ingest` go through it")
        print(f"segwork workbench: {url}  (Ctrl-C stops it)", flush=True)
        serve(address, port)
    finally:
        local.withdraw(settings)
    return 0


def _arguments(p) -> None:
    p.add_argument("--address", help="address to listen on (default SEGWORK_WORKBENCH_ADDRESS or 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default SEGWORK_WORKBENCH_PORT or 8501)")
    p.add_argument("--no-demo", action="store_true", help="do not load demo data into an empty database")
    p.add_argument("--new-admin-token", action="store_true",
                   help="replace the API's admin token (revoking the one kept in the data folder) instead of reusing it")


run_workbench.arguments = _arguments


def load_demo(client, settings: Settings) -> None:
    """Generate and load the demo data, with a progress bar on stderr."""
    from tqdm import tqdm

    print(f"The database is empty: loading demo data ({settings.demo_customers:,} customers, "
          f"{settings.demo_events:,} events; set SEGWORK_DEMO_CUSTOMERS / SEGWORK_DEMO_EVENTS to change)", flush=True)
    bar = tqdm(total=settings.demo_customers + settings.demo_events, unit="rows", unit_scale=True, desc="demo data",
               file=sys.stderr)
    reports = demo.load(client, customers=settings.demo_customers, events=settings.demo_events, settings=settings,
                        progress=bar.update, history=True)
    bar.close()
    for report in reports:
        print(report.summary().splitlines()[0], flush=True)


def check_port_free(address: str, port: int) -> None:
    """ConfigError naming the way out when the port is taken (before anything slow happens)."""
    if not 0 < port < 65536:
        raise ConfigError(f"port {port} is not a TCP port; give 1..65535 with --port or SEGWORK_WORKBENCH_PORT")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((address, port))
        except OSError as exc:
            raise ConfigError(f"cannot listen on {address}:{port} ({exc.strerror}): is another workbench running? "
                              "Stop it, or choose another port with --port or SEGWORK_WORKBENCH_PORT.") from None


def local_url(address: str, port: int) -> str:
    """The URL to open in a browser on this machine."""
    host = "localhost" if address in ("0.0.0.0", "::", "") else address
    return f"http://{host}:{port}"


def serve(address: str, port: int) -> None:
    """Run `streamlit run app.py` in this process until it is stopped (Ctrl-C or SIGTERM)."""
    import click
    from streamlit.web import cli as streamlit_cli

    flags = [f"--server.address={address}", f"--server.port={port}", "--server.headless=true",
             "--server.fileWatcherType=none", "--browser.gatherUsageStats=false"]
    try:
        streamlit_cli.main.main(args=["run", *flags, str(APP)], prog_name="streamlit", standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        pass  # Ctrl-C: the server has shut down
    print("segwork workbench stopped", flush=True)
