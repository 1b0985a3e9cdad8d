//! Cancellation: one flag per query, set by a user cancel or by the timeout, checked by every
//! operator between batches.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::error::{Error, ErrorCode};

/// Why a query was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelReason {
    /// `cancel_open_cypher_query` (or `cancelQuery`) was called.
    User,
    /// The query ran past its deadline.
    Timeout,
}

#[derive(Debug)]
struct Inner {
    /// 0 = running, 1 = cancelled by user, 2 = timed out.
    state: AtomicU8,
    deadline: Option<Instant>,
}

/// A cheap, cloneable cancellation flag with an optional deadline.
///
/// [`CancelToken::check`] is what operators call: it returns the coded error once the token was
/// cancelled or the deadline passed. The deadline is checked lazily, so no timer thread is
/// needed; the query manager also cancels explicitly so that waiting queries notice.
///
/// A token may also carry a time slice ([`with_slice`](Self::with_slice)): past it, `check`
/// fails with `ErrorCode::SliceExpired`, which tells the query manager to run the query
/// again elsewhere rather than report anything.
#[derive(Debug, Clone)]
pub struct CancelToken {
    inner: Arc<Inner>,
    slice: Option<Instant>,
}

impl Default for CancelToken {
    fn default() -> Self {
        Self::new(None)
    }
}

impl CancelToken {
    /// A token that expires at `deadline` (if any).
    pub fn new(deadline: Option<Instant>) -> Self {
        Self {
            inner: Arc::new(Inner {
                state: AtomicU8::new(0),
                deadline,
            }),
            slice: None,
        }
    }

    /// The same token (cancelling either cancels both) whose [`check`](Self::check) also
    /// fails, with `ErrorCode::SliceExpired`, once `until` has passed.
    pub fn with_slice(&self, until: Instant) -> CancelToken {
        CancelToken {
            inner: Arc::clone(&self.inner),
            slice: Some(until),
        }
    }

    /// A token that is never cancelled unless [`cancel`](Self::cancel) is called.
    pub fn none() -> Self {
        Self::new(None)
    }

    /// Whether the token carries a time slice (the query runs on a connection's thread).
    pub fn sliced(&self) -> bool {
        self.slice.is_some()
    }

    /// The deadline, if the token has one.
    pub fn deadline(&self) -> Option<Instant> {
        self.inner.deadline
    }

    /// Marks the token cancelled; the first reason wins.
    pub fn cancel(&self, reason: CancelReason) {
        let code = match reason {
            CancelReason::User => 1,
            CancelReason::Timeout => 2,
        };
        let _ = self
            .inner
            .state
            .compare_exchange(0, code, Ordering::AcqRel, Ordering::Acquire);
    }

    /// Why the token was cancelled, if it was (a passed deadline counts as a timeout).
    pub fn reason(&self) -> Option<CancelReason> {
        match self.inner.state.load(Ordering::Acquire) {
            1 => Some(CancelReason::User),
            2 => Some(CancelReason::Timeout),
            _ => match self.inner.deadline {
                Some(d) if Instant::now() >= d => {
                    self.cancel(CancelReason::Timeout);
                    self.reason()
                }
                _ => None,
            },
        }
    }

    /// True once cancelled by a user (not by the timeout).
    pub fn is_user_cancelled(&self) -> bool {
        self.inner.state.load(Ordering::Acquire) == 1
    }

    /// `Ok(())` while the query may go on; the coded error once it must stop.
    pub fn check(&self) -> Result<(), Error> {
        match self.reason() {
            None => match self.slice {
                Some(until) if Instant::now() >= until => Err(Error::new(
                    ErrorCode::SliceExpired,
                    "the query's time slice on this thread is used up",
                )),
                _ => Ok(()),
            },
            Some(reason) => Err(Self::error_for(reason)),
        }
    }

    /// The error a query stopped for `reason` reports to its caller.
    pub fn error_for(reason: CancelReason) -> Error {
        match reason {
            CancelReason::User => Error::new(
                ErrorCode::CancelledByUser,
                "Operation terminated (cancelled by user)",
            ),
            CancelReason::Timeout => Error::new(
                ErrorCode::TimeLimitExceeded,
                "Operation terminated (deadline exceeded)",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn first_reason_wins() {
        let t = CancelToken::none();
        assert!(t.check().is_ok());
        t.cancel(CancelReason::User);
        t.cancel(CancelReason::Timeout);
        assert_eq!(t.reason(), Some(CancelReason::User));
        assert_eq!(t.check().unwrap_err().code, ErrorCode::CancelledByUser);
    }

    #[test]
    fn a_slice_expires_without_cancelling_the_token() {
        let t = CancelToken::new(Some(Instant::now() + Duration::from_secs(60)));
        let sliced = t.with_slice(Instant::now() - Duration::from_millis(1));
        assert_eq!(sliced.check().unwrap_err().code, ErrorCode::SliceExpired);
        assert!(t.check().is_ok());
        assert_eq!(t.reason(), None);
        // Cancelling either cancels both, and a cancel wins over the slice.
        t.cancel(CancelReason::User);
        assert_eq!(sliced.check().unwrap_err().code, ErrorCode::CancelledByUser);
        let open = CancelToken::none().with_slice(Instant::now() + Duration::from_secs(60));
        assert!(open.check().is_ok());
        open.cancel(CancelReason::Timeout);
        assert_eq!(open.reason(), Some(CancelReason::Timeout));
    }

    #[test]
    fn passed_deadline_is_a_timeout() {
        let t = CancelToken::new(Some(Instant::now() - Duration::from_millis(1)));
        assert_eq!(t.check().unwrap_err().code, ErrorCode::TimeLimitExceeded);
        assert!(!t.is_user_cancelled());
    }
}
