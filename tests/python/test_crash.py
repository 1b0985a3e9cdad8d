"""The CI part of the crash test: three trials of scripts/crash-test (SIGKILL during concurrent
HTTP writers, restart, check acknowledged commits and atomicity, then a clean restart), and
its fsync-order check (strace: no commit acknowledged before its log record is fsynced).
`scripts/crash-test` runs the full 20 trials; both share its code."""

import importlib.machinery
import importlib.util
import shutil
import time

import pytest
from conftest import BINARY, ROOT


def load_crash_test():
    path = ROOT / "scripts" / "crash-test"
    loader = importlib.machinery.SourceFileLoader("nereid_crash_test", str(path))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_three_crashes_lose_no_acknowledged_commit_and_leave_no_partial_one(tmp_path, figures):
    crash = load_crash_test()
    lines = []
    started = time.monotonic()
    results = crash.run_trials(
        BINARY, trials=3, writers=6, min_ms=200, max_ms=1200, work_dir=tmp_path, out=lines.append
    )
    took = time.monotonic() - started
    report = "\n".join(lines)
    print(report)
    assert len(results) == 3, report
    assert all(r.ok for r in results), report
    # The check is not vacuous: every trial had acknowledged writes of every atomic kind.
    for r in results:
        assert r.acked.get("create", 0) > 0 and r.acked.get("pair", 0) > 0, report
    assert results[-1].checked > 0
    figures("crash test (CI part): trials, acknowledged commits checked at the end, seconds",
            f"3, {results[-1].checked}, {took:.1f}")


WAL_OPEN = '1 openat(AT_FDCWD, "/d/wal-00000000000000000001.log", O_WRONLY|O_APPEND) = 4'
ACK = '2 writev(9, [{iov_base="HTTP/1.1 200 OK\\r\\ncontent-type: a"..., iov_len=164}], 1) = 164'


def test_fsync_trace_analysis_catches_an_acknowledgement_before_its_fsync():
    crash = load_crash_test()
    good = [WAL_OPEN, '3 write(4, "\\23\\0", 27) = 27', "3 fdatasync(4)      = 0", ACK]
    assert crash.analyse_fsync_trace("\n".join(good)) == (1, 1, 1, 0)
    early = [WAL_OPEN, '3 write(4, "\\23\\0", 27) = 27', ACK, "3 fdatasync(4)      = 0"]
    assert crash.analyse_fsync_trace("\n".join(early))[3] == 1
    # An fsync that started before the write returned does not cover it.
    racing = [
        WAL_OPEN,
        '3 write(4, "\\23\\0", 27 <unfinished ...>',
        "5 fdatasync(4 <unfinished ...>",
        "3 <... write resumed>) = 27",
        "5 <... fdatasync resumed>) = 0",
        ACK,
    ]
    assert crash.analyse_fsync_trace("\n".join(racing))[3] == 1
    # Writes to other files (a closed log's descriptor reused) are not log writes.
    reused = [WAL_OPEN, "1 close(4) = 0", '3 write(4, "x", 1) = 1', "3 fdatasync(4) = 0", ACK]
    assert crash.analyse_fsync_trace("\n".join(reused))[3] == 1
    # The zeros written ahead of the log are not a log write.
    zeros = [WAL_OPEN, '3 pwrite64(4, "\\0\\0\\0\\0\\0\\0\\0\\0"..., 1048576, 59) = 1048576',
             "3 fdatasync(4) = 0", ACK]
    assert crash.analyse_fsync_trace("\n".join(zeros))[3] == 1


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
def test_no_commit_is_acknowledged_before_its_log_record_is_fsynced(tmp_path, figures):
    crash = load_crash_test()
    lines = []
    problems = crash.fsync_order_check(BINARY, tmp_path, clients=16, writes=30, out=lines.append)
    assert problems == [], "\n".join(lines + problems)
    figures("fsync order under strace (16 concurrent writers)", lines[-1])
