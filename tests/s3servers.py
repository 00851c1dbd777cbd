"""S3-compatible servers on loopback for tests: ``from s3servers import moto_server, nanio_server``.

Both are context managers yielding ``(endpoint_url, access_key, secret_key)``, e.g.
``("http://127.0.0.1:41234", "testing", "testing")``, and stop the server on exit.

* ``moto_server()`` - moto's in-process ``ThreadedMotoServer`` (a thread, starts in well under a
  second). Accepts ANY credentials and does NOT verify signatures, and NEVER expires a
  presigned URL. Good for fast behavioural tests; useless for signing/expiry tests. Its state
  is process-global (all moto servers of one process share buckets): use unique bucket names.
* ``nanio_server()`` - the ``nanio`` package (filesystem-backed S3 server) run as a subprocess:
  ``python -m nanio serve --host 127.0.0.1 --port P --data-dir D`` with the credentials in
  ``NANIO_ACCESS_KEY`` / ``NANIO_SECRET_KEY``. It verifies SigV4 (headers, streaming payloads and
  presigned URLs) and presigned-URL expiry: test tampering and expiry against it. Quirks: it
  ignores CopyObject's ``x-amz-metadata-directive: REPLACE`` (copies the source's metadata)
  and does not apply ``response-content-disposition`` overrides (the signature still covers them).

Neither needs network access; both bind 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["free_port", "moto_server", "nanio_server", "wait_for_port"]

HOST = "127.0.0.1"


def free_port() -> int:
    """A currently free TCP port on loopback (racy by nature: use it promptly)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_for_port(port: int, *, timeout: float = 20.0, proc: subprocess.Popen | None = None) -> None:
    """Wait until something accepts TCP connections on 127.0.0.1:port (or ``proc`` exits)."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server process exited early with code {proc.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listening on {HOST}:{port} after {timeout}s") from None
            time.sleep(0.05)


@contextlib.contextmanager
def moto_server() -> Iterator[tuple[str, str, str]]:
    """moto S3 in a thread of this process (no signature checks, presigned URLs never expire)."""
    import logging

    from moto.server import ThreadedMotoServer

    # werkzeug logs every request at INFO to stderr; keep test output readable.
    wz = logging.getLogger("werkzeug")
    old_level = wz.level
    wz.setLevel(logging.WARNING)
    # port=0: the OS picks a free port, no race; we read back the real one.
    server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        wait_for_port(port, timeout=10)
        yield f"http://{host}:{port}", "testing", "testing"
    finally:
        server.stop()
        wz.setLevel(old_level)


@contextlib.contextmanager
def nanio_server(
    *,
    access_key: str = "nanio-test-access",
    secret_key: str = "nanio-test-secret-key-0123456789",
    data_dir: Path | None = None,
    attempts: int = 3,
) -> Iterator[tuple[str, str, str]]:
    """nanio as a subprocess (verifies SigV4 signatures and presigned-URL expiry).

    ``data_dir`` defaults to a fresh temp dir, removed on exit. The server's output goes to
    ``<temp>/nanio.log`` (shown in the error if it fails to start).
    """
    workdir = Path(tempfile.mkdtemp(prefix="nanio-"))
    data = data_dir if data_dir is not None else workdir / "data"
    data.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "nanio.log"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("NANIO_")
    } | {"NANIO_ACCESS_KEY": access_key, "NANIO_SECRET_KEY": secret_key}

    proc: subprocess.Popen | None = None
    try:
        for attempt in range(attempts):
            port = free_port()
            with open(log_path, "ab") as log:
                proc = subprocess.Popen(
                    [
                        sys.executable, "-m", "nanio", "serve",
                        "--host", HOST,
                        "--port", str(port),
                        "--data-dir", str(data),
                        "--log-level", "warning",
                        "--no-access-log",
                    ],
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=workdir,
                )
            try:
                wait_for_port(port, timeout=30, proc=proc)
                break
            except (RuntimeError, TimeoutError) as exc:
                _stop(proc)
                proc = None
                if attempt == attempts - 1:
                    output = log_path.read_text(errors="replace")[-4000:]
                    raise RuntimeError(f"nanio did not start: {exc}\n{output}") from exc
        yield f"http://{HOST}:{port}", access_key, secret_key
    finally:
        if proc is not None:
            _stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
