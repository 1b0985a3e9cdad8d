"""The CI part of the crash test: three trials of scripts/crash-test (SIGKILL during concurrent
HTTP writers, restart, check acknowledged commits and atomicity, then a clean restart).
`scripts/crash-test` runs the full 20 trials; both share the code below."""

import importlib.machinery
import importlib.util
import time

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
