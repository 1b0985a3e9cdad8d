//! The one error table. Every error anywhere in nereid carries an [`ErrorCode`]; the table
//! in [`ErrorCode::info`] maps it to the Neptune exception name and HTTP status (what boto3
//! raises), the openCypher TCK error type and detail code, and the Bolt status code.

use std::fmt;

/// When an error was raised, in the TCK's terms: before any row or side effect (compile
/// time) or while running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    CompileTime,
    Runtime,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::CompileTime => "compile time",
            Phase::Runtime => "runtime",
        }
    }
}

/// One row of the error table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorInfo {
    /// Neptune exception name (`x-amzn-ErrorType`, body `code`).
    pub neptune: &'static str,
    /// HTTP status from the neptunedata model.
    pub http_status: u16,
    /// openCypher TCK error type (`SyntaxError`, `TypeError`, …).
    pub tck_type: &'static str,
    /// openCypher TCK detail code (`VariableAlreadyBound`, …); empty for API-level errors.
    pub tck_detail: &'static str,
    /// Bolt / Neo4j status code.
    pub bolt: &'static str,
    /// Whether a client may retry the same request unchanged.
    pub retryable: bool,
}

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $name:ident => ($neptune:literal, $status:literal, $tck:literal, $detail:literal, $bolt:expr, $retry:literal) ),* $(,)?) => {
        /// Every error nereid can report. See the module docs.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$doc])* $name, )*
        }

        impl ErrorCode {
            /// All codes, for tests and documentation.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$name),*];

            /// This code's row of the table.
            pub const fn info(self) -> ErrorInfo {
                match self {
                    $( ErrorCode::$name => ErrorInfo {
                        neptune: $neptune,
                        http_status: $status,
                        tck_type: $tck,
                        tck_detail: $detail,
                        bolt: $bolt,
                        retryable: $retry,
                    }, )*
                }
            }
        }
    };
}

const SYNTAX: &str = "Neo.ClientError.Statement.SyntaxError";
const SEMANTIC: &str = "Neo.ClientError.Statement.SemanticError";
const TYPE: &str = "Neo.ClientError.Statement.TypeError";
const ARG: &str = "Neo.ClientError.Statement.ArgumentError";
const ARITH: &str = "Neo.ClientError.Statement.ArithmeticError";
const REQ: &str = "Neo.ClientError.Request.Invalid";
const TRANSIENT: &str = "Neo.TransientError.General.DatabaseUnavailable";

error_codes! {
    // ---- API / request level -------------------------------------------------------------
    /// A required request parameter (such as `query`) is missing.
    MissingParameter => ("MissingParameterException", 400, "Error", "", REQ, false),
    /// A request parameter has an invalid value (bad `parameters` JSON, unknown query id, …).
    InvalidParameter => ("InvalidParameterException", 400, "Error", "", REQ, false),
    /// The request cannot be processed (too large, wrong encoding).
    BadRequest => ("BadRequestException", 400, "Error", "", REQ, false),
    /// The HTTP method is not supported on this route.
    MethodNotAllowed => ("MethodNotAllowedException", 405, "Error", "", REQ, false),
    /// No bulk-load job has the given `loadId` (the loader's status and cancel).
    BulkLoadIdNotFound => ("BulkLoadIdNotFoundException", 404, "Error", "", REQ, false),
    /// The route does not exist.
    UnknownRoute => ("BadRequestException", 400, "Error", "", REQ, false),
    /// The waiting queue is full.
    Throttling => ("ThrottlingException", 500, "Error", "", TRANSIENT, true),
    /// The query ran past its timeout.
    TimeLimitExceeded => ("TimeLimitExceededException", 500, "Error", "", "Neo.ClientError.Transaction.TransactionTimedOut", true),
    /// The query was cancelled by a user.
    CancelledByUser => ("CancelledByUserException", 500, "Error", "", "Neo.ClientError.Transaction.Terminated", true),
    /// A concurrent transaction modified the same data first.
    ConcurrentModification => ("ConcurrentModificationException", 500, "Error", "", "Neo.TransientError.Transaction.DeadlockDetected", true),
    /// The query would use more memory than allowed.
    MemoryLimitExceeded => ("MemoryLimitExceededException", 500, "Error", "", "Neo.TransientError.General.MemoryPoolOutOfMemoryError", true),
    /// Authentication or authorization failed.
    AccessDenied => ("AccessDeniedException", 403, "Error", "", "Neo.ClientError.Security.Forbidden", false),
    /// A write on a read-only server. Bolt: `Statement.AccessMode`, not
    /// `General.ForbiddenOnReadOnlyDatabase`, which drivers treat as transient (a cluster
    /// leader change) and retry; on a `--read-only` server a retry can never succeed.
    ReadOnlyViolation => ("ReadOnlyViolationException", 400, "Error", "", "Neo.ClientError.Statement.AccessMode", false),
    /// The query text is larger than allowed.
    QueryTooLarge => ("QueryTooLargeException", 400, "Error", "", REQ, false),
    /// The feature exists in openCypher but this server does not offer it.
    UnsupportedOperation => ("UnsupportedOperationException", 400, "Error", "", "Neo.ClientError.Statement.FeatureNotSupported", false),
    /// A query run on the connection's own thread used up its time slice there (see
    /// `CancelToken::with_slice`); the query manager runs it again on a worker. Never
    /// reaches a client.
    SliceExpired => ("InternalFailureException", 500, "Error", "", "Neo.DatabaseError.General.UnknownError", true),
    /// An unexpected internal failure (a bug): reported, never a panic.
    InternalFailure => ("InternalFailureException", 500, "Error", "", "Neo.DatabaseError.General.UnknownError", true),
    /// The storage refuses writes after an I/O failure (fail-stop).
    StorageFailure => ("InternalFailureException", 500, "Error", "", "Neo.DatabaseError.General.UnknownError", false),
    /// Statistics (and so the graph summary) were deleted and not computed again yet.
    StatisticsNotAvailable => ("StatisticsNotAvailableException", 400, "Error", "", REQ, false),
    /// The server is resetting the database (fast reset); the request may be retried.
    ServerShutdown => ("ServerShutdownException", 500, "Error", "", TRANSIENT, true),
    /// Neptune's data model: a node must keep at least one label.
    LastLabel => ("BadRequestException", 400, "ConstraintValidationFailed", "", "Neo.ClientError.Schema.ConstraintValidationFailed", false),
    /// A node or relationship with this `~id` already exists.
    DuplicateData => ("DuplicateDataException", 400, "ConstraintValidationFailed", "", "Neo.ClientError.Schema.ConstraintValidationFailed", false),
    /// The change stream has no record at or after the requested position (past the end,
    /// or an empty stream).
    StreamRecordsNotFound => ("StreamRecordsNotFoundException", 404, "Error", "", REQ, false),
    /// The requested change-stream records are older than the retention period (or were
    /// removed by a fast reset).
    ExpiredStream => ("ExpiredStreamException", 400, "Error", "", REQ, false),

    // ---- Cypher, compile time (syntax and semantic analysis) ------------------------------
    UnexpectedSyntax => ("MalformedQueryException", 400, "SyntaxError", "UnexpectedSyntax", SYNTAX, false),
    InvalidNumberLiteral => ("MalformedQueryException", 400, "SyntaxError", "InvalidNumberLiteral", SYNTAX, false),
    InvalidUnicodeLiteral => ("MalformedQueryException", 400, "SyntaxError", "InvalidUnicodeLiteral", SYNTAX, false),
    InvalidUnicodeCharacter => ("MalformedQueryException", 400, "SyntaxError", "InvalidUnicodeCharacter", SYNTAX, false),
    IntegerOverflow => ("MalformedQueryException", 400, "SyntaxError", "IntegerOverflow", SYNTAX, false),
    FloatingPointOverflow => ("MalformedQueryException", 400, "SyntaxError", "FloatingPointOverflow", SYNTAX, false),
    VariableAlreadyBound => ("MalformedQueryException", 400, "SyntaxError", "VariableAlreadyBound", SYNTAX, false),
    UndefinedVariable => ("MalformedQueryException", 400, "SyntaxError", "UndefinedVariable", SYNTAX, false),
    VariableTypeConflict => ("MalformedQueryException", 400, "SyntaxError", "VariableTypeConflict", SYNTAX, false),
    NoSingleRelationshipType => ("MalformedQueryException", 400, "SyntaxError", "NoSingleRelationshipType", SYNTAX, false),
    AmbiguousAggregationExpression => ("MalformedQueryException", 400, "SyntaxError", "AmbiguousAggregationExpression", SYNTAX, false),
    NegativeIntegerArgument => ("MalformedQueryException", 400, "SyntaxError", "NegativeIntegerArgument", SYNTAX, false),
    InvalidParameterUse => ("MalformedQueryException", 400, "SyntaxError", "InvalidParameterUse", SYNTAX, false),
    InvalidNumberOfArguments => ("MalformedQueryException", 400, "SyntaxError", "InvalidNumberOfArguments", SYNTAX, false),
    InvalidAggregation => ("MalformedQueryException", 400, "SyntaxError", "InvalidAggregation", SYNTAX, false),
    NonConstantExpression => ("MalformedQueryException", 400, "SyntaxError", "NonConstantExpression", SYNTAX, false),
    InvalidClauseComposition => ("MalformedQueryException", 400, "SyntaxError", "InvalidClauseComposition", SYNTAX, false),
    RequiresDirectedRelationship => ("MalformedQueryException", 400, "SyntaxError", "RequiresDirectedRelationship", SYNTAX, false),
    InvalidRelationshipPattern => ("MalformedQueryException", 400, "SyntaxError", "InvalidRelationshipPattern", SYNTAX, false),
    InvalidDelete => ("MalformedQueryException", 400, "SyntaxError", "InvalidDelete", SYNTAX, false),
    DifferentColumnsInUnion => ("MalformedQueryException", 400, "SyntaxError", "DifferentColumnsInUnion", SYNTAX, false),
    InvalidClauseCompositionUnion => ("MalformedQueryException", 400, "SyntaxError", "InvalidClauseComposition", SYNTAX, false),
    CreatingVarLength => ("MalformedQueryException", 400, "SyntaxError", "CreatingVarLength", SYNTAX, false),
    ColumnNameConflict => ("MalformedQueryException", 400, "SyntaxError", "ColumnNameConflict", SYNTAX, false),
    UnknownFunction => ("MalformedQueryException", 400, "SyntaxError", "UnknownFunction", SYNTAX, false),
    RelationshipUniquenessViolation => ("MalformedQueryException", 400, "SyntaxError", "RelationshipUniquenessViolation", SYNTAX, false),
    NoVariablesInScope => ("MalformedQueryException", 400, "SyntaxError", "NoVariablesInScope", SYNTAX, false),
    NoExpressionAlias => ("MalformedQueryException", 400, "SyntaxError", "NoExpressionAlias", SYNTAX, false),
    NestedAggregation => ("MalformedQueryException", 400, "SyntaxError", "NestedAggregation", SYNTAX, false),
    InvalidArgumentPassingMode => ("MalformedQueryException", 400, "SyntaxError", "InvalidArgumentPassingMode", SYNTAX, false),
    /// A type error found before running (a literal of the wrong type).
    InvalidArgumentTypeStatic => ("MalformedQueryException", 400, "SyntaxError", "InvalidArgumentType", SYNTAX, false),
    /// A parameter used by the query has no value.
    MissingQueryParameter => ("MalformedQueryException", 400, "ParameterMissing", "MissingParameter", "Neo.ClientError.Statement.ParameterMissing", false),
    /// `CALL` of a procedure that does not exist.
    ProcedureNotFound => ("MalformedQueryException", 400, "ProcedureError", "ProcedureNotFound", "Neo.ClientError.Procedure.ProcedureNotFound", false),

    // ---- Cypher, runtime ------------------------------------------------------------------
    /// A function or operator got a value of the wrong type.
    InvalidArgumentType => ("InvalidArgumentException", 400, "TypeError", "InvalidArgumentType", TYPE, false),
    /// SKIP/LIMIT given a value that is not a non-negative integer.
    InvalidSkipLimitArgument => ("InvalidArgumentException", 400, "ArgumentError", "InvalidArgumentType", ARG, false),
    /// A function got a value of the right type but outside its domain.
    InvalidArgumentValue => ("InvalidArgumentException", 400, "TypeError", "InvalidArgumentValue", TYPE, false),
    NumberOutOfRange => ("InvalidArgumentException", 400, "ArgumentError", "NumberOutOfRange", ARG, false),
    NegativeIntegerArgumentRuntime => ("InvalidArgumentException", 400, "ArgumentError", "NegativeIntegerArgument", ARG, false),
    MapElementAccessByNonString => ("InvalidArgumentException", 400, "TypeError", "MapElementAccessByNonString", TYPE, false),
    InvalidPropertyType => ("InvalidArgumentException", 400, "TypeError", "InvalidPropertyType", TYPE, false),
    /// Integer arithmetic overflowed 64 bits.
    ArithmeticOverflow => ("InvalidNumericDataException", 400, "ArithmeticError", "IntegerOverflow", ARITH, false),
    /// Integer division or modulo by zero.
    DivisionByZero => ("InvalidArgumentException", 400, "ArithmeticError", "DivisionByZero", ARITH, false),
    DeletedEntityAccess => ("InvalidArgumentException", 400, "EntityNotFound", "DeletedEntityAccess", "Neo.ClientError.Statement.EntityNotFound", false),
    DeleteConnectedNode => ("ConstraintViolationException", 400, "ConstraintValidationFailed", "DeleteConnectedNode", "Neo.ClientError.Schema.ConstraintValidationFailed", false),
    MergeReadOwnWrites => ("InvalidArgumentException", 400, "SemanticError", "MergeReadOwnWrites", SEMANTIC, false),
    /// A procedure call failed at runtime.
    ProcedureFailed => ("FailureByQueryException", 500, "ProcedureError", "", "Neo.ClientError.Procedure.ProcedureCallFailed", false),
}

/// A coded error with a human-readable message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Error {
    pub code: ErrorCode,
    pub phase: Phase,
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let info = self.code.info();
        if info.tck_detail.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(
                f,
                "{}: {} ({})",
                info.tck_type, self.message, info.tck_detail
            )
        }
    }
}

impl Error {
    /// A runtime error (the common case outside parsing and analysis).
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            phase: Phase::Runtime,
            message: message.into(),
        }
    }

    /// An error found before the query touched any data.
    pub fn compile(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            phase: Phase::CompileTime,
            message: message.into(),
        }
    }

    /// An internal failure: a bug, reported with a code rather than a panic.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InternalFailure, message)
    }

    /// A runtime type error.
    pub fn type_error(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidArgumentType, message)
    }

    pub fn info(&self) -> ErrorInfo {
        self.code.info()
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_names_a_neptune_exception_and_a_status() {
        for code in ErrorCode::ALL {
            let info = code.info();
            assert!(info.neptune.ends_with("Exception"), "{code:?}");
            assert!(matches!(info.http_status, 400..=599), "{code:?}");
            assert!(!info.bolt.is_empty());
        }
    }

    #[test]
    fn syntax_errors_are_malformed_queries() {
        let e = Error::compile(ErrorCode::VariableAlreadyBound, "x");
        assert_eq!(e.info().neptune, "MalformedQueryException");
        assert_eq!(e.info().http_status, 400);
        assert_eq!(e.to_string(), "SyntaxError: x (VariableAlreadyBound)");
    }
}
