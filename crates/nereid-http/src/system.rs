//! `POST /system`: Neptune's fast reset (ExecuteFastReset), in two steps.
//!
//! 1. `action=initiateDatabaseReset` hands out a token (a UUID). Only the newest token is
//!    valid, for [`crate::HttpConfig::reset_token_ttl`] (Neptune: 60 minutes); a restart
//!    forgets it.
//! 2. `action=performDatabaseReset&token=…` with that token empties the database durably
//!    (the query manager stops queries in flight; see `QueryManager::fast_reset`) and uses
//!    the token up.
//!
//! Both JSON (the SDK) and form bodies (graph-notebook's `%db_reset`) are accepted.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use nereid_common::{Error, ErrorCode};

use crate::request::Fields;

/// What a `/system` request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SystemAction {
    Initiate,
    Perform { token: String },
}

/// Reads `action` (and `token`) the way Neptune checks them.
pub fn system_action(fields: &Fields) -> Result<SystemAction, Error> {
    if fields.count("action") > 1 {
        return Err(Error::new(
            ErrorCode::InvalidParameter,
            "Too many values supplied for: action",
        ));
    }
    let action = fields.text("action")?.ok_or_else(|| {
        Error::new(
            ErrorCode::MissingParameter,
            "Missing required parameters: [action]",
        )
    })?;
    match action.as_str() {
        "initiateDatabaseReset" => Ok(SystemAction::Initiate),
        "performDatabaseReset" => {
            let token = fields.text("token")?.ok_or_else(|| {
                Error::new(
                    ErrorCode::MissingParameter,
                    "Missing required parameters: [token]",
                )
            })?;
            Ok(SystemAction::Perform { token })
        }
        other => Err(Error::new(
            ErrorCode::InvalidParameter,
            format!("System command parameter 'action' has unsupported value '{other}'"),
        )),
    }
}

/// The newest reset token and when it was issued.
#[derive(Debug, Default)]
pub struct ResetTokens {
    current: Mutex<Option<(String, Instant)>>,
}

impl ResetTokens {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(String, Instant)>> {
        self.current.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new token; any earlier one stops being valid.
    pub fn issue(&self) -> String {
        let token = uuid::Uuid::new_v4().to_string();
        *self.lock() = Some((token.clone(), Instant::now()));
        token
    }

    /// Uses up `token` if it is the newest one and younger than `ttl`.
    pub fn redeem(&self, token: &str, ttl: Duration) -> Result<(), Error> {
        let mut current = self.lock();
        match &*current {
            Some((t, issued)) if t == token && issued.elapsed() < ttl => {
                *current = None;
                Ok(())
            }
            _ => Err(Error::new(
                ErrorCode::InvalidParameter,
                format!(
                    "System command parameter 'token' : '{token}' does not match database reset token"
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_newest_unexpired_token_counts_and_only_once() {
        let tokens = ResetTokens::default();
        let hour = Duration::from_secs(3600);
        assert!(tokens.redeem("none-yet", hour).is_err());
        let old = tokens.issue();
        let new = tokens.issue();
        let err = tokens.redeem(&old, hour).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidParameter);
        assert_eq!(
            err.message,
            format!(
                "System command parameter 'token' : '{old}' does not match database reset token"
            )
        );
        tokens.redeem(&new, hour).unwrap();
        assert!(tokens.redeem(&new, hour).is_err(), "a token is used up");
        let t = tokens.issue();
        assert!(tokens.redeem(&t, Duration::ZERO).is_err(), "expired");
    }
}
