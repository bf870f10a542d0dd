"""Starts the real `warden` binary (WARDEN_BIN) for the client tests."""

import json
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from queue import Empty, Queue

import pytest

SERVING = "warden is serving"


def _read_address(server: "subprocess.Popen[str]", found: "Queue[str | None]") -> None:
    """Puts the address from the `warden is serving` log line, then keeps
    draining stdout so the server never blocks on a full pipe."""
    assert server.stdout is not None
    sent = False
    for line in server.stdout:
        if sent:
            continue
        try:
            fields = json.loads(line).get("fields", {})
        except ValueError:
            continue
        if fields.get("message") == SERVING:
            found.put(fields["listen"])
            sent = True
    if not sent:
        found.put(None)


@pytest.fixture(scope="module")
def warden_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = os.environ.get("WARDEN_BIN")
    if not binary:
        pytest.fail("WARDEN_BIN must name the warden binary (tests/clients/run.sh sets it)")
    data_dir: Path = tmp_path_factory.mktemp("warden-data")
    server = subprocess.Popen(
        [binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", str(data_dir)],
        # A clean environment: nothing from the caller's WARDEN_* or RUST_LOG.
        env={"WARDEN_SERVER__DRAIN_DELAY_SECONDS": "0"},
        stdout=subprocess.PIPE,
        text=True,
    )
    found: "Queue[str | None]" = Queue()
    threading.Thread(target=_read_address, args=(server, found), daemon=True).start()
    try:
        address = found.get(timeout=60)
    except Empty:
        address = None
    try:
        if address is None:
            pytest.fail("warden did not serve within a minute")
        yield address
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            assert server.wait(timeout=30) == 0, "warden did not exit cleanly"
        except subprocess.TimeoutExpired:
            server.kill()
            raise
