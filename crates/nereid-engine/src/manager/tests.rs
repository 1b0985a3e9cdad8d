//! Manager tests against a scripted runner whose "queries" sleep while polling their cancel
//! token, as real operators do between batches.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nereid_common::{CancelToken, Error, ErrorCode};
use nereid_value::{Map, Value};

use super::*;

/// Query language of the fake runner: `[hint <ms>] sleep <ms>` or `panic`, optionally
/// followed by a `//` comment; anything else is a syntax error.
#[derive(Default)]
struct Scripted {
    /// Texts of the queries that actually started executing.
    executed: Mutex<Vec<String>>,
    prepared: AtomicUsize,
    /// Texts whose run outlasted a time slice on a caller's thread.
    ran_long: Mutex<Vec<String>>,
}

struct Script {
    text: String,
    sleep_ms: Option<u64>,
}

impl QueryRunner for Arc<Scripted> {
    type Plan = Script;

    fn may_run_inline(&self, plan: &Script) -> bool {
        !self.ran_long.lock().unwrap().contains(&plan.text)
    }

    fn slice_expired(&self, plan: &Script) {
        self.ran_long.lock().unwrap().push(plan.text.clone());
    }

    fn prepare(&self, text: &str) -> Result<PreparedQuery<Script>, Error> {
        self.prepared.fetch_add(1, Ordering::SeqCst);
        // `//` starts a comment, as in Cypher.
        let code = text.split("//").next().unwrap_or_default();
        let words: Vec<&str> = code.split_whitespace().collect();
        let (timeout_ms, rest) = match words.as_slice() {
            ["hint", ms, rest @ ..] => (ms.parse().ok(), rest),
            rest => (None, rest),
        };
        let sleep_ms = match rest {
            ["sleep", ms] => Some(ms.parse().map_err(|_| syntax(text))?),
            ["panic"] => None,
            _ => return Err(syntax(text)),
        };
        Ok(PreparedQuery {
            plan: Script {
                text: text.to_owned(),
                sleep_ms,
            },
            timeout_ms,
            subqueries: 2,
        })
    }

    fn execute(
        &self,
        plan: &Script,
        _params: &Map,
        cancel: &CancelToken,
    ) -> Result<QueryResult, Error> {
        self.executed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(plan.text.clone());
        let Some(ms) = plan.sleep_ms else {
            panic!("scripted panic");
        };
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(ms) {
            cancel.check()?;
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(QueryResult {
            columns: vec!["slept".into()],
            rows: vec![vec![Value::Int(ms as i64)]],
            ..Default::default()
        })
    }
}

fn syntax(text: &str) -> Error {
    Error::compile(
        ErrorCode::UnexpectedSyntax,
        format!("cannot parse {text:?}"),
    )
}

type Outcome = Result<QueryResult, Error>;

struct Harness {
    runner: Arc<Scripted>,
    manager: QueryManager<Arc<Scripted>>,
}

impl Harness {
    fn new(workers: usize, queue_size: usize, query_timeout_ms: u64) -> Self {
        let runner = Arc::new(Scripted::default());
        let manager = QueryManager::new(
            runner.clone(),
            ManagerConfig {
                workers,
                queue_size,
                query_timeout_ms,
            },
        )
        .expect("threads start");
        Self { runner, manager }
    }

    fn submit(&self, id: &str, text: &str) -> Result<Receiver<Outcome>, Error> {
        self.accept(id, text, false)
    }

    /// `run_or_submit`: answered before it returns when it ran on the calling thread.
    fn run_or_submit(&self, id: &str, text: &str) -> Result<Receiver<Outcome>, Error> {
        self.accept(id, text, true)
    }

    fn accept(&self, id: &str, text: &str, in_place: bool) -> Result<Receiver<Outcome>, Error> {
        let (tx, rx) = channel();
        let done: Completion = Box::new(move |r| {
            let _ = tx.send(r);
        });
        let (id, params) = (id.to_owned(), Map::new());
        if in_place {
            self.manager
                .run_or_submit(Protocol::Http, id, text, params, done)?;
        } else {
            self.manager
                .submit(Protocol::Http, id, text, params, done)?;
        }
        Ok(rx)
    }

    fn wait_running(&self, id: &str) {
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if self.manager.status(id).is_ok_and(|s| s.running) {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        panic!("{id} never started");
    }

    fn executed(&self) -> Vec<String> {
        self.runner.executed.lock().unwrap().clone()
    }
}

fn recv(rx: &Receiver<Outcome>) -> Outcome {
    rx.recv_timeout(Duration::from_secs(5))
        .expect("query completed")
}

#[test]
fn finished_query_is_answered_and_forgotten() {
    let h = Harness::new(2, 8, 0);
    let rx = h.submit("q1", "sleep 0").unwrap();
    let result = recv(&rx).unwrap();
    assert_eq!(result.rows, vec![vec![Value::Int(0)]]);
    let err = h.manager.status("q1").unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidParameter);
    assert_eq!(err.message, "Supplied queryId q1 is invalid");
    assert_eq!(
        h.manager.cancel("q1", false).unwrap_err().message,
        "Supplied queryId q1 is invalid"
    );
}

#[test]
fn malformed_query_is_refused_without_taking_a_slot() {
    let h = Harness::new(1, 1, 0);
    let err = h.submit("bad", "MATCH (n RETURN n").unwrap_err();
    assert_eq!(err.code, ErrorCode::UnexpectedSyntax);
    assert_eq!(h.manager.list(true).accepted, 0);
    assert!(h.executed().is_empty());
}

#[test]
fn cancel_stops_running_query_quickly() {
    let h = Harness::new(2, 8, 0);
    let rx = h.submit("long", "sleep 60000").unwrap();
    h.wait_running("long");
    let before = h.manager.status("long").unwrap();
    assert!(!before.cancelled);
    let t = Instant::now();
    h.manager.cancel("long", false).unwrap();
    let err = recv(&rx).unwrap_err();
    let latency = t.elapsed();
    assert_eq!(err.code, ErrorCode::CancelledByUser);
    assert!(latency < Duration::from_millis(100), "took {latency:?}");
    assert!(h.manager.status("long").is_err());
}

#[test]
fn silent_cancel_gives_empty_result() {
    let h = Harness::new(1, 8, 0);
    let rx = h.submit("long", "sleep 60000").unwrap();
    h.wait_running("long");
    h.manager.cancel("long", true).unwrap();
    let result = recv(&rx).unwrap();
    assert!(result.rows.is_empty() && result.columns.is_empty());
}

#[test]
fn waiting_query_cancelled_never_runs() {
    let h = Harness::new(1, 8, 0);
    let rx_a = h.submit("a", "sleep 60000").unwrap();
    h.wait_running("a");
    let rx_b = h.submit("b", "sleep 1").unwrap();

    let running_only = h.manager.list(false);
    assert_eq!((running_only.accepted, running_only.running), (2, 1));
    assert_eq!(running_only.queries.len(), 1);
    assert_eq!(running_only.queries[0].query_id, "a");
    let all = h.manager.list(true);
    let ids: Vec<&str> = all.queries.iter().map(|q| q.query_id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    let b = h.manager.status("b").unwrap();
    assert!(!b.running && b.elapsed_ms == 0);

    h.manager.cancel("b", false).unwrap();
    // Answered by the cancel itself, not by a worker (the only one is busy).
    let err = rx_b.try_recv().expect("answered at once").unwrap_err();
    assert_eq!(err.code, ErrorCode::CancelledByUser);
    assert!(h.manager.status("b").is_err());

    h.manager.cancel("a", false).unwrap();
    recv(&rx_a).unwrap_err();
    // Give the worker a chance to (wrongly) pick b up.
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(h.executed(), ["sleep 60000"]);
}

#[test]
fn full_queue_throttles() {
    let h = Harness::new(1, 1, 0);
    let rx_a = h.submit("a", "sleep 60000").unwrap();
    h.wait_running("a");
    let _rx_b = h.submit("b", "sleep 0").unwrap();
    let err = h.submit("c", "sleep 0").unwrap_err();
    assert_eq!(err.code, ErrorCode::Throttling);
    assert_eq!(
        err.message,
        "Max number of request have breached, ConfiguredQueueCapacity=1 for connId = c"
    );
    assert!(h.manager.status("c").is_err());
    h.manager.cancel("a", true).unwrap();
    recv(&rx_a).unwrap();
}

#[test]
fn cluster_timeout_stops_running_query() {
    let h = Harness::new(1, 8, 50);
    let t = Instant::now();
    let rx = h.submit("q", "sleep 60000").unwrap();
    let err = recv(&rx).unwrap_err();
    assert_eq!(err.code, ErrorCode::TimeLimitExceeded);
    assert_eq!(err.message, "Operation terminated (deadline exceeded)");
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(50) && took < Duration::from_millis(500),
        "{took:?}"
    );
}

#[test]
fn hint_shortens_but_never_lengthens_the_timeout() {
    let h = Harness::new(2, 8, 100);
    let t = Instant::now();
    let rx = h.submit("short", "hint 20 sleep 60000").unwrap();
    assert_eq!(recv(&rx).unwrap_err().code, ErrorCode::TimeLimitExceeded);
    assert!(t.elapsed() < Duration::from_millis(90), "{:?}", t.elapsed());

    let t = Instant::now();
    let rx = h.submit("long", "hint 60000 sleep 60000").unwrap();
    assert_eq!(recv(&rx).unwrap_err().code, ErrorCode::TimeLimitExceeded);
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(100) && took < Duration::from_millis(1000),
        "{took:?}"
    );
}

#[test]
fn waiting_query_times_out_in_the_queue_without_running() {
    let h = Harness::new(1, 8, 0);
    let rx_a = h.submit("a", "sleep 60000").unwrap();
    h.wait_running("a");
    let t = Instant::now();
    let rx_b = h.submit("b", "hint 40 sleep 1").unwrap();
    let err = recv(&rx_b).unwrap_err();
    let took = t.elapsed();
    assert_eq!(err.code, ErrorCode::TimeLimitExceeded);
    assert!(
        took >= Duration::from_millis(40) && took < Duration::from_millis(500),
        "{took:?}"
    );
    assert!(h.manager.status("b").is_err());
    assert!(h.manager.status("a").is_ok_and(|s| s.running));
    h.manager.cancel("a", false).unwrap();
    recv(&rx_a).unwrap_err();
    assert_eq!(h.executed(), ["sleep 60000"]);
}

#[test]
fn panic_in_a_query_is_an_internal_failure_and_the_worker_survives() {
    let h = Harness::new(1, 8, 0);
    let err = recv(&h.submit("p", "panic").unwrap()).unwrap_err();
    assert_eq!(err.code, ErrorCode::InternalFailure);
    assert!(err.message.contains("scripted panic"), "{}", err.message);
    assert!(recv(&h.submit("after", "sleep 0").unwrap()).is_ok());
}

#[test]
fn waited_and_elapsed_are_real_measurements() {
    let h = Harness::new(1, 8, 0);
    let rx_a = h.submit("a", "sleep 150").unwrap();
    let t_b = Instant::now();
    let rx_b = h.submit("b", "sleep 60000").unwrap();
    recv(&rx_a).unwrap();
    h.wait_running("b");
    let first = h.manager.status("b").unwrap();
    let wall_waited = t_b.elapsed().as_millis() as u64;
    assert!(
        first.waited_ms >= 100 && first.waited_ms <= wall_waited,
        "{first:?}"
    );
    std::thread::sleep(Duration::from_millis(30));
    let second = h.manager.status("b").unwrap();
    assert_eq!(
        second.waited_ms, first.waited_ms,
        "waited is frozen once running"
    );
    assert!(
        second.elapsed_ms >= first.elapsed_ms + 30,
        "{first:?} then {second:?}"
    );
    assert_eq!(second.subqueries, 2);
    h.manager.cancel("b", false).unwrap();
    let cancelled = h.manager.status("b");
    // Either still stopping (then flagged) or already gone.
    assert!(cancelled.map_or(true, |s| s.cancelled));
    recv(&rx_b).unwrap_err();
}

#[test]
fn query_string_is_truncated_to_1024_characters() {
    let h = Harness::new(1, 8, 0);
    // Multi-byte characters: the limit counts characters, not bytes.
    let text = format!("sleep 60000 // {}", "é".repeat(2000));
    let rx = h.submit("q", &text).unwrap();
    let status = h.manager.status("q").unwrap();
    assert_eq!(status.query_string.chars().count(), QUERY_STRING_LIMIT);
    assert!(text.starts_with(&status.query_string));
    h.manager.cancel("q", false).unwrap();
    recv(&rx).unwrap_err();
    // At and around the limit, in characters of one and two bytes.
    for (text, kept) in [
        ("a".repeat(1024), 1024),
        ("a".repeat(1025), 1024),
        ("é".repeat(600), 600),
        ("é".repeat(1024), 1024),
        (format!("{}{}", "a".repeat(1023), "éé"), 1024),
    ] {
        let cut = super::truncated_query_string(&text);
        assert_eq!(cut.chars().count(), kept, "{}", text.len());
        assert!(text.starts_with(&cut));
    }
}

#[test]
fn duplicate_id_is_refused() {
    let h = Harness::new(1, 8, 0);
    let rx = h.submit("same", "sleep 60000").unwrap();
    assert_eq!(
        h.submit("same", "sleep 0").unwrap_err().code,
        ErrorCode::InvalidParameter
    );
    h.manager.cancel("same", false).unwrap();
    recv(&rx).unwrap_err();
}

#[test]
fn status_and_list_answer_while_every_worker_is_busy() {
    let h = Harness::new(2, 8, 0);
    let rxs: Vec<_> = (0..4)
        .map(|i| h.submit(&format!("q{i}"), "sleep 60000").unwrap())
        .collect();
    h.wait_running("q0");
    h.wait_running("q1");
    let t = Instant::now();
    for _ in 0..100 {
        let list = h.manager.list(true);
        assert_eq!((list.accepted, list.running, list.queries.len()), (4, 2, 4));
        h.manager.status("q3").unwrap();
    }
    assert!(
        t.elapsed() < Duration::from_millis(100),
        "{:?}",
        t.elapsed()
    );
    for i in 0..4 {
        h.manager.cancel(&format!("q{i}"), false).unwrap();
    }
    for rx in rxs {
        assert_eq!(recv(&rx).unwrap_err().code, ErrorCode::CancelledByUser);
    }
}

#[test]
fn shutdown_answers_every_accepted_query() {
    let h = Harness::new(1, 8, 0);
    let rx_a = h.submit("a", "sleep 60000").unwrap();
    h.wait_running("a");
    let rx_b = h.submit("b", "sleep 60000").unwrap();
    h.manager.shutdown();
    for rx in [rx_a, rx_b] {
        let err = recv(&rx).unwrap_err();
        assert_eq!(err.code, ErrorCode::InternalFailure);
        assert!(err.message.contains("shutting down"));
    }
    assert!(h.submit("c", "sleep 0").is_err());
    assert_eq!(h.runner.prepared.load(Ordering::SeqCst), 3);
}

#[test]
fn a_panicking_completion_does_not_kill_the_worker() {
    let h = Harness::new(1, 8, 0);
    h.manager
        .submit(
            Protocol::Http,
            "boom".into(),
            "sleep 0",
            Map::new(),
            Box::new(|_| panic!("caller's callback panicked")),
        )
        .unwrap();
    // The only worker must still serve the next query.
    assert!(recv(&h.submit("next", "sleep 0").unwrap()).is_ok());
}

#[test]
fn run_or_submit_runs_on_the_callers_thread_when_a_slot_is_free() {
    let h = Harness::new(1, 8, 0);
    let rx = h.run_or_submit("here", "sleep 0").unwrap();
    // Answered before `run_or_submit` returned: it ran on this thread.
    let outcome = rx.try_recv().expect("answered in place").unwrap();
    assert_eq!(outcome.rows, vec![vec![Value::Int(0)]]);
    assert!(h.manager.status("here").is_err(), "finished and forgotten");
    assert_eq!(h.manager.list(true).accepted, 0);
    // Errors of preparing are returned, as by `submit`.
    let err = h.run_or_submit("bad", "nonsense").unwrap_err();
    assert_eq!(err.code, ErrorCode::UnexpectedSyntax);
}

#[test]
fn a_query_that_outlasts_its_slice_moves_to_a_worker_with_its_slot() {
    let h = Arc::new(Harness::new(1, 8, 0));
    let started = Instant::now();
    let rx = h.run_or_submit("long", "sleep 60000").unwrap();
    // Not answered in place: stopped after its slice and handed to a worker, which runs it
    // again from the start, in the slot it already held.
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(rx.try_recv().is_err());
    h.wait_running("long");
    let until = Instant::now() + Duration::from_secs(5);
    while h.executed().len() < 2 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(h.executed(), ["sleep 60000", "sleep 60000"]);
    let list = h.manager.list(false);
    assert_eq!((list.accepted, list.running), (1, 1));
    // The only slot is taken: a queued query waits, and another caller's `run_or_submit`
    // queues instead of running beside it.
    let rx_q = h.submit("queued", "sleep 0").unwrap();
    let rx_r = h.run_or_submit("second", "sleep 0").unwrap();
    std::thread::sleep(Duration::from_millis(30));
    assert!(!h.manager.status("queued").unwrap().running);
    assert!(!h.manager.status("second").unwrap().running);
    assert_eq!(h.executed().len(), 2);

    h.manager.cancel("long", false).unwrap();
    assert_eq!(recv(&rx).unwrap_err().code, ErrorCode::CancelledByUser);
    // The freed slot goes to the waiting queries, in arrival order.
    recv(&rx_q).unwrap();
    recv(&rx_r).unwrap();
    assert_eq!(
        h.executed(),
        ["sleep 60000", "sleep 60000", "sleep 0", "sleep 0"]
    );

    // The plan ran long once: the next run of it goes to a worker at once (one execution,
    // not a slice first), and is answered from there.
    let rx = h.run_or_submit("again", "sleep 60000").unwrap();
    h.wait_running("again");
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(h.executed().len(), 5);
    h.manager.cancel("again", false).unwrap();
    assert_eq!(recv(&rx).unwrap_err().code, ErrorCode::CancelledByUser);
}

#[test]
fn a_query_cancelled_or_timed_out_in_its_slice_is_answered_in_place() {
    let h = Harness::new(1, 8, 0);
    // `hint 0`: its deadline is its acceptance, passed before it starts.
    let rx = h.run_or_submit("late", "hint 0 sleep 50").unwrap();
    let err = rx.try_recv().expect("answered in place").unwrap_err();
    assert_eq!(err.code, ErrorCode::TimeLimitExceeded);
    assert!(h.executed().is_empty());
    assert_eq!(h.manager.list(true).accepted, 0);
}

#[test]
fn workers_never_run_more_queries_than_slots_with_callers_running_in_place() {
    let h = Arc::new(Harness::new(2, 64, 0));
    let peak = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (h, peak, stop) = (h.clone(), peak.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                peak.fetch_max(h.manager.list(false).running, Ordering::SeqCst);
                std::thread::yield_now();
            }
        })
    };
    let callers: Vec<_> = (0..6)
        .map(|c| {
            let h = h.clone();
            std::thread::spawn(move || {
                (0..10)
                    .map(|i| {
                        let id = format!("c{c}-{i}");
                        if i % 2 == 0 {
                            h.run_or_submit(&id, "sleep 2").unwrap()
                        } else {
                            h.submit(&id, "sleep 2").unwrap()
                        }
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for caller in callers {
        for rx in caller.join().unwrap() {
            recv(&rx).unwrap();
        }
    }
    stop.store(true, Ordering::SeqCst);
    watcher.join().unwrap();
    // Every query ran to the end once; those that outlasted a slice in place also started
    // there first.
    let executed = h.executed().len();
    assert!((60..=90).contains(&executed), "{executed} executions");
    let peak = peak.load(Ordering::SeqCst);
    assert!((1..=2).contains(&peak), "peak running {peak}");
}

fn database_manager(query_timeout_ms: u64) -> QueryManager<Database> {
    QueryManager::new(
        Database::in_memory(),
        ManagerConfig {
            workers: 2,
            queue_size: 8,
            query_timeout_ms,
        },
    )
    .expect("threads start")
}

fn submit_in(
    m: &QueryManager<Database>,
    id: &str,
    text: &str,
    txn: &Transaction,
) -> Receiver<Outcome> {
    let (tx, rx) = channel();
    let done: Completion = Box::new(move |r| {
        let _ = tx.send(r);
    });
    let options = RunOptions {
        transaction: Some(txn.clone()),
        ..RunOptions::default()
    };
    m.submit_with(Protocol::Bolt, id.into(), text, Map::new(), options, done)
        .expect("accepted");
    rx
}

#[test]
fn a_statement_of_a_transaction_is_listed_cancellable_and_its_cancel_rolls_back() {
    let m = database_manager(0);
    let txn = m.begin_transaction(TxnOptions::default()).unwrap();
    recv(&submit_in(&m, "w", "CREATE (:T)", &txn)).unwrap();
    let long = "UNWIND range(1, 2000000000) AS x RETURN count(x)";
    let rx = submit_in(&m, "s2", long, &txn);
    let until = Instant::now() + Duration::from_secs(5);
    while !m.status("s2").is_ok_and(|s| s.running) {
        assert!(Instant::now() < until, "never listed as running");
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(m.list(false).queries[0].query_string, long);
    m.cancel("s2", false).unwrap();
    let e = recv(&rx).unwrap_err();
    assert_eq!(e.code, ErrorCode::CancelledByUser);
    assert!(!txn.is_open());
    let count = m
        .runner()
        .execute(
            "MATCH (t:T) RETURN count(t)",
            &Map::new(),
            &CancelToken::none(),
        )
        .unwrap();
    assert_eq!(count.rows, vec![vec![Value::Int(0)]]);
}

#[test]
fn a_statement_ends_at_the_transaction_deadline_and_the_query_timeout_applies() {
    let m = database_manager(0);
    let txn = m
        .begin_transaction(TxnOptions {
            mode: crate::TxnMode::Write,
            timeout: Some(Duration::from_millis(150)),
        })
        .unwrap();
    let rx = submit_in(
        &m,
        "t",
        "UNWIND range(1, 2000000000) AS x RETURN count(x)",
        &txn,
    );
    let status = m.status("t").unwrap();
    assert!(!status.cancelled);
    let e = recv(&rx).unwrap_err();
    assert_eq!(e.code, ErrorCode::TimeLimitExceeded);
    assert!(e.message.contains("timeout of 150 ms"), "{}", e.message);

    let m = database_manager(100);
    let txn = m.begin_transaction(TxnOptions::default()).unwrap();
    let e = recv(&submit_in(
        &m,
        "q",
        "UNWIND range(1, 2000000000) AS x RETURN count(x)",
        &txn,
    ))
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::TimeLimitExceeded);
    assert!(!txn.is_open());
}

#[test]
fn transactions_are_refused_while_shutting_down_and_by_runners_without_them() {
    let m = database_manager(0);
    m.shutdown();
    assert!(m.begin_transaction(TxnOptions::default()).is_err());
    let h = Harness::new(1, 1, 0);
    let e = h
        .manager
        .begin_transaction(TxnOptions::default())
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::UnsupportedOperation);
}
