//! Bolt messages: requests decoded from PackStream structures into [`Request`], and responses
//! ([`Response`]) encoded back to structures.
//!
//! Owns the mapping between tags and typed fields only; what a message means in a given server
//! state is the state machine's business. Decoding accepts the field shapes of Bolt 4.0–5.4
//! (e.g. RUN with or without `extra`, ROUTE's third field as a database name (4.3) or a map
//! (4.4+)), and refuses anything else with a [`MessageError`] naming the message and field.

use crate::packstream::{self, DecodeError, EncodeError, Value};
use thiserror::Error;

/// A PackStream dictionary in wire order.
pub type Dict = Vec<(String, Value)>;

/// Authentication fields of HELLO (Bolt ≤ 5.0) or LOGON (5.1+).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Auth {
    pub scheme: Option<String>,
    pub principal: Option<String>,
    pub credentials: Option<String>,
    /// The whole auth map, for schemes with other fields.
    pub fields: Dict,
}

/// A client request.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// `user_agent` is required by the spec; `auth` is filled only by pre-5.1 clients that put
    /// credentials in HELLO.
    Hello {
        user_agent: String,
        auth: Option<Auth>,
        extra: Dict,
    },
    Logon {
        auth: Auth,
    },
    Logoff,
    Goodbye,
    Reset,
    Run {
        query: String,
        parameters: Dict,
        extra: Dict,
    },
    Begin {
        extra: Dict,
    },
    Commit,
    Rollback,
    /// `n` = -1 means all records; `qid` = -1 means the last query.
    Discard {
        n: i64,
        qid: i64,
    },
    Pull {
        n: i64,
        qid: i64,
    },
    Route {
        routing: Dict,
        bookmarks: Vec<String>,
        database: Option<String>,
        impersonated_user: Option<String>,
    },
    Telemetry {
        api: i64,
    },
}

/// A server response.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    Success { metadata: Dict },
    Record { fields: Vec<Value> },
    Ignored,
    Failure { code: String, message: String },
}

pub mod tag {
    pub const HELLO: u8 = 0x01;
    pub const GOODBYE: u8 = 0x02;
    pub const RESET: u8 = 0x0F;
    pub const RUN: u8 = 0x10;
    pub const BEGIN: u8 = 0x11;
    pub const COMMIT: u8 = 0x12;
    pub const ROLLBACK: u8 = 0x13;
    pub const DISCARD: u8 = 0x2F;
    pub const PULL: u8 = 0x3F;
    pub const TELEMETRY: u8 = 0x54;
    pub const ROUTE: u8 = 0x66;
    pub const LOGON: u8 = 0x6A;
    pub const LOGOFF: u8 = 0x6B;
    pub const SUCCESS: u8 = 0x70;
    pub const RECORD: u8 = 0x71;
    pub const IGNORED: u8 = 0x7E;
    pub const FAILURE: u8 = 0x7F;
}

/// Why a message is not a valid request.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MessageError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("Bolt message is not a PackStream structure")]
    NotAStructure,
    #[error("unknown Bolt request tag 0x{0:02X}")]
    UnknownTag(u8),
    #[error("{message} takes {expected} field(s), got {got}")]
    FieldCount {
        message: &'static str,
        expected: &'static str,
        got: usize,
    },
    #[error("{message}: field `{field}` must be {expected}")]
    FieldType {
        message: &'static str,
        field: &'static str,
        expected: &'static str,
    },
}

impl Request {
    /// Decodes one dechunked message.
    pub fn decode(bytes: &[u8]) -> Result<Self, MessageError> {
        Self::from_value(packstream::decode(bytes)?)
    }

    pub fn from_value(value: Value) -> Result<Self, MessageError> {
        let Value::Structure { tag, fields } = value else {
            return Err(MessageError::NotAStructure);
        };
        let mut f = Fields {
            message: name(tag).ok_or(MessageError::UnknownTag(tag))?,
            items: fields.into_iter(),
        };
        let n = f.items.len();
        let req = match tag {
            tag::HELLO => {
                f.count(n == 1, "1")?;
                let extra = f.dict("extra")?;
                let user_agent = match lookup(&extra, "user_agent") {
                    Some(Value::String(s)) => s.clone(),
                    _ => return Err(f.type_err("user_agent", "a string")),
                };
                let auth = lookup(&extra, "scheme")
                    .is_some()
                    .then(|| auth_from(&extra));
                Request::Hello {
                    user_agent,
                    auth,
                    extra,
                }
            }
            tag::LOGON => {
                f.count(n == 1, "1")?;
                Request::Logon {
                    auth: auth_from(&f.dict("auth")?),
                }
            }
            tag::LOGOFF | tag::GOODBYE | tag::RESET | tag::COMMIT | tag::ROLLBACK => {
                f.count(n == 0, "0")?;
                match tag {
                    tag::LOGOFF => Request::Logoff,
                    tag::GOODBYE => Request::Goodbye,
                    tag::RESET => Request::Reset,
                    tag::COMMIT => Request::Commit,
                    _ => Request::Rollback,
                }
            }
            tag::RUN => {
                f.count(n == 2 || n == 3, "2 or 3")?;
                let query = f.string("query")?;
                let parameters = f.dict("parameters")?;
                let extra = if n == 3 {
                    f.dict("extra")?
                } else {
                    Dict::new()
                };
                Request::Run {
                    query,
                    parameters,
                    extra,
                }
            }
            tag::BEGIN => {
                f.count(n <= 1, "0 or 1")?;
                let extra = if n == 1 {
                    f.dict("extra")?
                } else {
                    Dict::new()
                };
                Request::Begin { extra }
            }
            tag::DISCARD | tag::PULL => {
                f.count(n == 1, "1")?;
                let extra = f.dict("extra")?;
                let n = f.int_in(&extra, "n", -1)?;
                let qid = f.int_in(&extra, "qid", -1)?;
                if tag == tag::PULL {
                    Request::Pull { n, qid }
                } else {
                    Request::Discard { n, qid }
                }
            }
            tag::ROUTE => {
                f.count(n == 3, "3")?;
                let routing = f.dict("routing")?;
                let bookmarks = match f.next() {
                    Value::List(items) => items
                        .into_iter()
                        .map(|b| match b {
                            Value::String(s) => Ok(s),
                            _ => Err(f.type_err("bookmarks", "a list of strings")),
                        })
                        .collect::<Result<_, _>>()?,
                    Value::Null => Vec::new(),
                    _ => return Err(f.type_err("bookmarks", "a list of strings")),
                };
                let (database, impersonated_user) = match f.next() {
                    Value::Null => (None, None),
                    // Bolt 4.3: the database name itself.
                    Value::String(db) => (Some(db), None),
                    // Bolt 4.4+: {db, imp_user}.
                    Value::Dictionary(d) => (opt_str(&d, "db"), opt_str(&d, "imp_user")),
                    _ => return Err(f.type_err("extra", "a map, string or null")),
                };
                Request::Route {
                    routing,
                    bookmarks,
                    database,
                    impersonated_user,
                }
            }
            tag::TELEMETRY => {
                f.count(n == 1, "1")?;
                match f.next() {
                    Value::Integer(api) => Request::Telemetry { api },
                    _ => return Err(f.type_err("api", "an integer")),
                }
            }
            other => return Err(MessageError::UnknownTag(other)),
        };
        Ok(req)
    }
}

impl Response {
    pub fn to_value(&self) -> Value {
        let (tag, fields) = match self {
            Response::Success { metadata } => {
                (tag::SUCCESS, vec![Value::Dictionary(metadata.clone())])
            }
            Response::Record { fields } => (tag::RECORD, vec![Value::List(fields.clone())]),
            Response::Ignored => (tag::IGNORED, vec![]),
            Response::Failure { code, message } => (
                tag::FAILURE,
                vec![Value::Dictionary(vec![
                    ("code".into(), Value::String(code.clone())),
                    ("message".into(), Value::String(message.clone())),
                ])],
            ),
        };
        Value::Structure { tag, fields }
    }

    /// Encodes the response as one (unchunked) message.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        packstream::encode(&self.to_value(), out)
    }
}

fn name(tag: u8) -> Option<&'static str> {
    Some(match tag {
        tag::HELLO => "HELLO",
        tag::GOODBYE => "GOODBYE",
        tag::RESET => "RESET",
        tag::RUN => "RUN",
        tag::BEGIN => "BEGIN",
        tag::COMMIT => "COMMIT",
        tag::ROLLBACK => "ROLLBACK",
        tag::DISCARD => "DISCARD",
        tag::PULL => "PULL",
        tag::TELEMETRY => "TELEMETRY",
        tag::ROUTE => "ROUTE",
        tag::LOGON => "LOGON",
        tag::LOGOFF => "LOGOFF",
        _ => return None,
    })
}

fn lookup<'a>(d: &'a Dict, key: &str) -> Option<&'a Value> {
    d.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn opt_str(d: &Dict, key: &str) -> Option<String> {
    match lookup(d, key) {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    }
}

fn auth_from(d: &Dict) -> Auth {
    Auth {
        scheme: opt_str(d, "scheme"),
        principal: opt_str(d, "principal"),
        credentials: opt_str(d, "credentials"),
        fields: d.clone(),
    }
}

/// Positional access to a structure's fields, with errors naming the message.
struct Fields {
    message: &'static str,
    items: std::vec::IntoIter<Value>,
}

impl Fields {
    fn count(&self, ok: bool, expected: &'static str) -> Result<(), MessageError> {
        if ok {
            Ok(())
        } else {
            Err(MessageError::FieldCount {
                message: self.message,
                expected,
                got: self.items.len(),
            })
        }
    }

    fn type_err(&self, field: &'static str, expected: &'static str) -> MessageError {
        MessageError::FieldType {
            message: self.message,
            field,
            expected,
        }
    }

    /// The next field; callers have checked the count, so running out reads as Null, which
    /// every typed accessor then rejects.
    fn next(&mut self) -> Value {
        self.items.next().unwrap_or(Value::Null)
    }

    fn dict(&mut self, field: &'static str) -> Result<Dict, MessageError> {
        match self.next() {
            Value::Dictionary(d) => Ok(d),
            _ => Err(self.type_err(field, "a map")),
        }
    }

    fn string(&mut self, field: &'static str) -> Result<String, MessageError> {
        match self.next() {
            Value::String(s) => Ok(s),
            _ => Err(self.type_err(field, "a string")),
        }
    }

    fn int_in(&self, d: &Dict, field: &'static str, default: i64) -> Result<i64, MessageError> {
        match lookup(d, field) {
            None => Ok(default),
            Some(Value::Integer(i)) => Ok(*i),
            Some(_) => Err(self.type_err(field, "an integer")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packstream::tests::XorShift;

    fn s(x: &str) -> Value {
        Value::String(x.into())
    }

    fn msg(tag: u8, fields: Vec<Value>) -> Vec<u8> {
        packstream::to_bytes(&Value::Structure { tag, fields }).expect("encodable")
    }

    #[test]
    fn hello_from_a_5_1_driver_has_no_auth() {
        let b = msg(
            tag::HELLO,
            vec![Value::Dictionary(vec![
                ("user_agent".into(), s("neo4j-python/6.0")),
                (
                    "bolt_agent".into(),
                    Value::Dictionary(vec![("product".into(), s("neo4j-python/6.0"))]),
                ),
            ])],
        );
        match Request::decode(&b) {
            Ok(Request::Hello {
                user_agent, auth, ..
            }) => {
                assert_eq!(user_agent, "neo4j-python/6.0");
                assert_eq!(auth, None);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hello_from_a_4x_driver_carries_credentials() {
        let b = msg(
            tag::HELLO,
            vec![Value::Dictionary(vec![
                ("user_agent".into(), s("neo4j-java/4.4")),
                ("scheme".into(), s("basic")),
                ("principal".into(), s("username")),
                ("credentials".into(), s("{\"Authorization\":\"x\"}")),
            ])],
        );
        let Ok(Request::Hello { auth: Some(a), .. }) = Request::decode(&b) else {
            panic!("not a HELLO with auth");
        };
        assert_eq!(a.scheme.as_deref(), Some("basic"));
        assert_eq!(a.principal.as_deref(), Some("username"));
        assert_eq!(a.credentials.as_deref(), Some("{\"Authorization\":\"x\"}"));
    }

    #[test]
    fn hello_without_user_agent_is_refused() {
        let b = msg(tag::HELLO, vec![Value::Dictionary(vec![])]);
        assert_eq!(
            Request::decode(&b),
            Err(MessageError::FieldType {
                message: "HELLO",
                field: "user_agent",
                expected: "a string"
            })
        );
    }

    #[test]
    fn logon_and_field_less_messages_decode() {
        let b = msg(
            tag::LOGON,
            vec![Value::Dictionary(vec![("scheme".into(), s("none"))])],
        );
        let Ok(Request::Logon { auth }) = Request::decode(&b) else {
            panic!()
        };
        assert_eq!(auth.scheme.as_deref(), Some("none"));
        for (t, r) in [
            (tag::LOGOFF, Request::Logoff),
            (tag::GOODBYE, Request::Goodbye),
            (tag::RESET, Request::Reset),
            (tag::COMMIT, Request::Commit),
            (tag::ROLLBACK, Request::Rollback),
        ] {
            assert_eq!(Request::decode(&[0xB0, t]), Ok(r));
        }
        assert_eq!(
            Request::decode(&[0xB0, tag::BEGIN]),
            Ok(Request::Begin { extra: vec![] })
        );
        assert_eq!(
            Request::decode(&[0xB1, tag::RESET, 0xC0]),
            Err(MessageError::FieldCount {
                message: "RESET",
                expected: "0",
                got: 1
            })
        );
    }

    #[test]
    fn run_with_and_without_extra() {
        let params = Value::Dictionary(vec![("x".into(), Value::Integer(1))]);
        let extra = Value::Dictionary(vec![("db".into(), s("neo4j"))]);
        let b = msg(tag::RUN, vec![s("RETURN $x"), params.clone(), extra]);
        let Ok(Request::Run {
            query,
            parameters,
            extra,
        }) = Request::decode(&b)
        else {
            panic!()
        };
        assert_eq!(query, "RETURN $x");
        assert_eq!(parameters, vec![("x".into(), Value::Integer(1))]);
        assert_eq!(extra, vec![("db".into(), s("neo4j"))]);
        let b = msg(tag::RUN, vec![s("RETURN 1"), Value::Dictionary(vec![])]);
        assert!(matches!(Request::decode(&b), Ok(Request::Run { .. })));
        let b = msg(tag::RUN, vec![Value::Integer(1), Value::Dictionary(vec![])]);
        assert!(matches!(
            Request::decode(&b),
            Err(MessageError::FieldType { field: "query", .. })
        ));
    }

    #[test]
    fn pull_and_discard_default_to_all_of_the_last_query() {
        let b = msg(
            tag::PULL,
            vec![Value::Dictionary(vec![("n".into(), Value::Integer(1000))])],
        );
        assert_eq!(Request::decode(&b), Ok(Request::Pull { n: 1000, qid: -1 }));
        let b = msg(
            tag::DISCARD,
            vec![Value::Dictionary(vec![
                ("n".into(), Value::Integer(-1)),
                ("qid".into(), Value::Integer(3)),
            ])],
        );
        assert_eq!(Request::decode(&b), Ok(Request::Discard { n: -1, qid: 3 }));
        let b = msg(
            tag::PULL,
            vec![Value::Dictionary(vec![("n".into(), s("all"))])],
        );
        assert!(Request::decode(&b).is_err());
    }

    #[test]
    fn route_accepts_the_4_3_and_4_4_shapes() {
        let routing = Value::Dictionary(vec![("address".into(), s("h:8182"))]);
        let b = msg(
            tag::ROUTE,
            vec![routing.clone(), Value::List(vec![s("bm1")]), s("neo4j")],
        );
        let Ok(Request::Route {
            bookmarks,
            database,
            ..
        }) = Request::decode(&b)
        else {
            panic!()
        };
        assert_eq!(bookmarks, vec!["bm1".to_string()]);
        assert_eq!(database.as_deref(), Some("neo4j"));
        let b = msg(
            tag::ROUTE,
            vec![
                routing,
                Value::List(vec![]),
                Value::Dictionary(vec![("imp_user".into(), s("bob"))]),
            ],
        );
        let Ok(Request::Route {
            database,
            impersonated_user,
            ..
        }) = Request::decode(&b)
        else {
            panic!()
        };
        assert_eq!(database, None);
        assert_eq!(impersonated_user.as_deref(), Some("bob"));
    }

    #[test]
    fn telemetry_and_unknown_tags() {
        assert_eq!(
            Request::decode(&[0xB1, tag::TELEMETRY, 0x02]),
            Ok(Request::Telemetry { api: 2 })
        );
        assert_eq!(
            Request::decode(&[0xB0, 0x55]),
            Err(MessageError::UnknownTag(0x55))
        );
        assert_eq!(Request::decode(&[0x01]), Err(MessageError::NotAStructure));
    }

    #[test]
    fn responses_encode_to_the_spec_structures() {
        let mut out = Vec::new();
        Response::Success { metadata: vec![] }
            .encode(&mut out)
            .expect("encodable");
        assert_eq!(out, [0xB1, 0x70, 0xA0]);
        out.clear();
        Response::Record {
            fields: vec![Value::Integer(1), s("a")],
        }
        .encode(&mut out)
        .expect("encodable");
        assert_eq!(out, [0xB1, 0x71, 0x92, 0x01, 0x81, 0x61]);
        out.clear();
        Response::Ignored.encode(&mut out).expect("encodable");
        assert_eq!(out, [0xB0, 0x7E]);
        out.clear();
        Response::Failure {
            code: "Neo.ClientError.Statement.SyntaxError".into(),
            message: "bad".into(),
        }
        .encode(&mut out)
        .expect("encodable");
        let Ok(Value::Structure { tag, fields }) = packstream::decode(&out) else {
            panic!()
        };
        assert_eq!(tag, 0x7F);
        assert_eq!(
            fields,
            vec![Value::Dictionary(vec![
                ("code".into(), s("Neo.ClientError.Statement.SyntaxError")),
                ("message".into(), s("bad")),
            ])]
        );
    }

    #[test]
    fn random_messages_never_panic_the_decoder() {
        let mut rng = XorShift(0xA076_1D64_78BD_642F);
        let tags = [
            tag::HELLO,
            tag::LOGON,
            tag::RUN,
            tag::PULL,
            tag::DISCARD,
            tag::ROUTE,
            tag::TELEMETRY,
            tag::BEGIN,
        ];
        for _ in 0..20_000 {
            let mut b = rng.bytes(48);
            // Give most inputs a plausible structure header so field decoding is reached.
            if b.len() >= 2 && !rng.next().is_multiple_of(4) {
                b[0] = 0xB0 | (rng.next() % 4) as u8;
                b[1] = tags[(rng.next() as usize) % tags.len()];
            }
            let _ = Request::decode(&b);
        }
    }
}
