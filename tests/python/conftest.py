"""Fixtures for the boto3 tests: start the built nereid binary on a free 127.0.0.1 port,
point the real boto3 `neptunedata` client at it, and stop it afterwards.

The binary is $NEREID_BIN, or target/debug/nereid (scripts/test builds it). Each server
logs to a file; readiness is the `listening on http://ADDR` line, which carries the real port
because the server is started with --http-addr 127.0.0.1:0.

Measurements (cancel latency, waited/elapsed against wall clock) are collected with the
`figures` fixture and printed at the end of the run, whatever pytest captures.
"""

import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("NEREID_BIN", ROOT / "target" / "debug" / "nereid"))
LISTENING = re.compile(r"listening on http://(\S+)")

_FIGURES = []


class Server:
    """One nereid process with its own database."""

    def __init__(self, *args, data_dir=None, env=None):
        """`data_dir` None = `--in-memory`; otherwise the embedded store in that directory.
        `env` adds environment variables (e.g. `NEREID_*` settings)."""
        if not BINARY.exists():
            raise RuntimeError(f"{BINARY} not found: build it with `cargo build -p nereid`")
        self.log_path = Path(tempfile.mkstemp(prefix="nereid-", suffix=".log")[1])
        self._log = open(self.log_path, "wb")
        store = ["--in-memory"] if data_dir is None else ["--data-dir", str(data_dir)]
        self.proc = subprocess.Popen(
            [str(BINARY), "serve", "--http-addr", "127.0.0.1:0", *store, *args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=None if env is None else {**os.environ, **env},
        )
        self.addr = self._wait_ready()
        self.url = f"http://{self.addr}"

    def _wait_ready(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = LISTENING.search(self.log_path.read_text(errors="replace"))
            if match:
                return match.group(1)
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"nereid did not start:\n{self.log_path.read_text(errors='replace')}")

    def client(self, **config):
        """The boto3 client of SPEC section 10; `config` overrides the recommended settings."""
        settings = {"read_timeout": None, "retries": {"total_max_attempts": 1}}
        settings.update(config)
        return boto3.client(
            "neptunedata",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="dummy-secret",
            config=Config(**settings),
        )

    def stop(self):
        """SIGTERM (graceful shutdown), then SIGKILL if it does not exit in time."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


@pytest.fixture(scope="module")
def server():
    """A server shared by the tests of one module."""
    s = Server("--workers", "4")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(server):
    return server.client()


@pytest.fixture
def start_server():
    """Starts servers with specific flags; all are stopped after the test."""
    started = []

    def start(*args, data_dir=None, env=None):
        s = Server(*args, data_dir=data_dir, env=env)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


@pytest.fixture
def figures():
    """Records a measured figure for the end-of-run report."""

    def record(name, value):
        _FIGURES.append((name, value))

    return record


def pytest_terminal_summary(terminalreporter):
    if _FIGURES:
        terminalreporter.section("nereid measurements")
        for name, value in _FIGURES:
            terminalreporter.write_line(f"{name}: {value}")
