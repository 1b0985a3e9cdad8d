"""Recovery as a user sees it: a torn log tail is cut off with a log line, a corrupt record in
the middle of the log stops the start naming the file and offset, and a second server cannot
open a directory already in use."""

import signal
import subprocess

import pytest

from conftest import BINARY, Server


def wal_files(data_dir):
    return sorted(data_dir.glob("wal-*.log"))


def log_end(raw):
    """Where the log in segment bytes `raw` ends: its first all-zero record header (the
    writer writes zeros ahead of its records), or the end of the file."""
    pos = 32
    while pos + 8 <= len(raw) and raw[pos:pos + 8] != bytes(8):
        pos += 8 + int.from_bytes(raw[pos:pos + 4], "little")
    return pos


def count_nodes(server):
    c = server.client()
    return c.execute_open_cypher_query(openCypherQuery="MATCH (n:T) RETURN count(n) AS c")["results"][0]["c"]


def write_three_then_kill(start_server, data_dir):
    s = start_server(data_dir=data_dir)
    c = s.client()
    for i in range(3):
        c.execute_open_cypher_query(openCypherQuery=f"CREATE (:T {{i: {i}}})")
    s.proc.send_signal(signal.SIGKILL)
    s.proc.wait()


def test_torn_tail_is_cut_off_with_a_log_line(start_server, tmp_path):
    data = tmp_path / "data"
    write_three_then_kill(start_server, data)
    wal = wal_files(data)[-1]
    end = log_end(wal.read_bytes())
    assert wal.stat().st_size > end, "zeros were written ahead of the log"
    with open(wal, "r+b") as f:
        f.truncate(end - 5)  # the last record is now torn
    s = start_server(data_dir=data)
    log = s.log_path.read_text()
    assert "truncated a torn write" in log and wal.name in log, log
    assert count_nodes(s) == 2


def test_corrupt_record_in_the_middle_stops_the_start_with_file_and_offset(start_server, tmp_path):
    data = tmp_path / "data"
    write_three_then_kill(start_server, data)
    wal = wal_files(data)[-1]
    raw = bytearray(wal.read_bytes())
    # Flip a byte inside the first record's payload (after the 32-byte header and the
    # record's 8-byte length and checksum), so valid records follow the damage.
    raw[32 + 8 + 2] ^= 0xFF
    wal.write_bytes(bytes(raw))
    with pytest.raises(RuntimeError) as started:
        Server(data_dir=data)
    message = str(started.value)
    assert wal.name in message and "offset" in message, message


def test_a_second_server_cannot_open_a_directory_in_use(start_server, tmp_path):
    data = tmp_path / "data"
    first = start_server(data_dir=data)
    second = subprocess.run(
        [str(BINARY), "serve", "--http-addr", "127.0.0.1:0", "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert second.returncode != 0
    assert "in use" in (second.stdout + second.stderr)
    assert first.proc.poll() is None
