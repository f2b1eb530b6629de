"""Loaded by every Python client the tests run (this folder is on its PYTHONPATH): no connection and
no name look-up may leave the machine. Each attempt is refused (as if the network were down) and
written to $SEGWORK_NETGUARD_LOG, which the test reads and asserts empty."""
import ipaddress
import os
import socket

_LOG = os.environ.get("SEGWORK_NETGUARD_LOG")
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _loopback(host) -> bool:
    if host is None:
        return True  # getaddrinfo(None, port): the local host's own addresses
    if isinstance(host, bytes):
        host = host.decode()
    host = str(host).strip("[]").split("%")[0]
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refuse(what: str, host) -> None:
    if _LOG:
        with open(_LOG, "a") as f:
            f.write(f"python pid {os.getpid()}: {what} {host!r}\n")
    raise OSError(101, f"segwork test guard: {what} to {host!r} refused (no traffic may leave the machine)")


_getaddrinfo = socket.getaddrinfo
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def getaddrinfo(host, *args, **kwargs):
    if not _loopback(host):
        _refuse("name look-up", host)
    return _getaddrinfo(host, *args, **kwargs)


def _checked(sock, address) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
        _refuse("connect", address[0])


def connect(self, address):
    _checked(self, address)
    return _connect(self, address)


def connect_ex(self, address):
    _checked(self, address)
    return _connect_ex(self, address)


socket.getaddrinfo = getaddrinfo
socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
