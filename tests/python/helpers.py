"""Helpers shared by the test modules: the long query, a background caller, list polling."""

import json
import threading
import time

LONG = "UNWIND range(1, 1000000000) AS x RETURN count(x)"


class Background:
    """Runs one query in a thread with its own client; records outcome and timings."""

    def __init__(self, client, query, parameters=None):
        self.client = client
        self.query = query
        self.result = None
        self.error = None
        self.sent_at = time.monotonic()
        self.finished_at = None
        args = {"openCypherQuery": query}
        if parameters is not None:
            args["parameters"] = json.dumps(parameters)
        self.thread = threading.Thread(target=self._run, args=(args,), daemon=True)
        self.thread.start()

    def _run(self, args):
        try:
            self.result = self.client.execute_open_cypher_query(**args)
        except Exception as e:  # the test inspects whatever the caller got
            self.error = e
        self.finished_at = time.monotonic()

    def join(self, timeout=30):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"{self.query!r} did not finish"
        return self

    def error_code(self):
        assert self.error is not None, f"expected an error, got {self.result}"
        return self.error.response["Error"]["Code"]


def find_query(client, text, include_waiting=False, timeout=20.0):
    """Polls the list until a query with this text shows up; returns its status entry."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listing = client.list_open_cypher_queries(includeWaiting=include_waiting)
        for q in listing["queries"]:
            if q["queryString"] == text:
                return q
        time.sleep(0.01)
    raise AssertionError(f"{text!r} never listed")
