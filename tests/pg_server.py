"""A throwaway local PostgreSQL server for the publishing and engine tests: a real server, not a
mock.

Installs Debian's ``postgresql`` package when no server binaries are found (needs root and the
Debian mirror; CI can run ``python tests/pg_server.py install`` up front), initdbs a
cluster in a temporary directory listening on 127.0.0.1 only, with password (SCRAM)
authentication over TCP, and stops and deletes it afterwards. As root, the cluster is run by the
``postgres`` system user, because PostgreSQL refuses to run as root.

    python tests/pg_server.py install   # apt-get install postgresql if missing
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "postgres"
SUPERUSER_PASSWORD = "publish-tests-only"


def find_bin_dir() -> Path | None:
    """The newest installed server's bin directory (Debian keeps them per major version)."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def install() -> Path:
    """Find the server, installing Debian's package when it is missing."""
    found = find_bin_dir()
    if found:
        return found
    if os.geteuid() != 0:
        raise RuntimeError("PostgreSQL is not installed and installing it needs root (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"],
        check=True,
        env=env,
    )
    found = find_bin_dir()
    if not found:
        raise RuntimeError("apt-get installed postgresql but no initdb was found")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class PgServer:
    port: int
    data_dir: Path

    def url(self, user: str = SUPERUSER, password: str = SUPERUSER_PASSWORD) -> str:
        return f"postgresql+psycopg2://{user}:{password}@127.0.0.1:{self.port}/postgres"


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@contextlib.contextmanager
def running_server() -> Iterator[PgServer]:
    """initdb + start a cluster on 127.0.0.1; stop and remove it on exit."""
    bin_dir = install()
    root = Path(tempfile.mkdtemp(prefix="sp-pg-"))
    data_dir, sock_dir = root / "data", root / "sock"
    sock_dir.mkdir()
    pwfile = root / "pw"
    pwfile.write_text(SUPERUSER_PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock_dir, "postgres")
        shutil.chown(pwfile, "postgres")
    port = _free_port()
    log = root / "server.log"
    subprocess.run(
        _as_server_user(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                SUPERUSER,
                f"--pwfile={pwfile}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--no-instructions",
            ]
        ),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {sock_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _as_server_user(
            [str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-o", options, "-l", str(log)]
            + ["-w", "-t", "60", "start"]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield PgServer(port, data_dir)
    finally:
        subprocess.run(
            _as_server_user(
                [str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "fast", "-w", "stop"]
            ),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["install"]:
        print(install())
    else:
        print(__doc__)
        sys.exit(2)
