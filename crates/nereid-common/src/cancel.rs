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
#[derive(Debug, Clone)]
pub struct CancelToken {
    inner: Arc<Inner>,
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
        }
    }

    /// A token that is never cancelled unless [`cancel`](Self::cancel) is called.
    pub fn none() -> Self {
        Self::new(None)
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
            None => Ok(()),
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
    fn passed_deadline_is_a_timeout() {
        let t = CancelToken::new(Some(Instant::now() - Duration::from_millis(1)));
        assert_eq!(t.check().unwrap_err().code, ErrorCode::TimeLimitExceeded);
        assert!(!t.is_user_cancelled());
    }
}
