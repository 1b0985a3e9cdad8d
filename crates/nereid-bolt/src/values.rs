//! Graph and temporal values as Bolt structures, in the encoding of the negotiated version.
//!
//! * Node `N`: `[id, labels, properties]`, plus `element_id` from 5.0.
//! * Relationship `R`: `[id, start, end, type, properties]`, plus `element_id`,
//!   `start_element_id`, `end_element_id` from 5.0; UnboundRelationship `r` likewise.
//! * Path `P`: `[nodes, unbound relationships, indices]`.
//! * DateTime: from 5.0 `I`/`i` with seconds since the epoch in UTC; in 4.x the legacy `F`/`f`
//!   with seconds of the *local* date-time.

use crate::handshake::Version;
use crate::packstream::Value;

pub mod tag {
    pub const NODE: u8 = b'N';
    pub const RELATIONSHIP: u8 = b'R';
    pub const UNBOUND_RELATIONSHIP: u8 = b'r';
    pub const PATH: u8 = b'P';
    pub const DATE: u8 = b'D';
    pub const TIME: u8 = b'T';
    pub const LOCAL_TIME: u8 = b't';
    pub const LOCAL_DATE_TIME: u8 = b'd';
    pub const DATE_TIME: u8 = b'I';
    pub const DATE_TIME_ZONE_ID: u8 = b'i';
    pub const LEGACY_DATE_TIME: u8 = b'F';
    pub const LEGACY_DATE_TIME_ZONE_ID: u8 = b'f';
    pub const DURATION: u8 = b'E';
}

fn has_element_ids(version: Version) -> bool {
    version.major >= 5
}

fn st(tag: u8, fields: Vec<Value>) -> Value {
    Value::Structure { tag, fields }
}

/// A node: integer `id`, string `element_id` (5.0+ only).
pub fn node(
    version: Version,
    id: i64,
    element_id: &str,
    labels: Vec<String>,
    properties: Vec<(String, Value)>,
) -> Value {
    let mut fields = vec![
        Value::Integer(id),
        Value::List(labels.into_iter().map(Value::String).collect()),
        Value::Dictionary(properties),
    ];
    if has_element_ids(version) {
        fields.push(Value::String(element_id.to_owned()));
    }
    st(tag::NODE, fields)
}

/// The identity of a relationship and its ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelIds<'a> {
    pub id: i64,
    pub element_id: &'a str,
    pub start: i64,
    pub start_element_id: &'a str,
    pub end: i64,
    pub end_element_id: &'a str,
}

pub fn relationship(
    version: Version,
    ids: &RelIds<'_>,
    rel_type: &str,
    properties: Vec<(String, Value)>,
) -> Value {
    let mut fields = vec![
        Value::Integer(ids.id),
        Value::Integer(ids.start),
        Value::Integer(ids.end),
        Value::String(rel_type.to_owned()),
        Value::Dictionary(properties),
    ];
    if has_element_ids(version) {
        fields.push(Value::String(ids.element_id.to_owned()));
        fields.push(Value::String(ids.start_element_id.to_owned()));
        fields.push(Value::String(ids.end_element_id.to_owned()));
    }
    st(tag::RELATIONSHIP, fields)
}

pub fn unbound_relationship(
    version: Version,
    id: i64,
    element_id: &str,
    rel_type: &str,
    properties: Vec<(String, Value)>,
) -> Value {
    let mut fields = vec![
        Value::Integer(id),
        Value::String(rel_type.to_owned()),
        Value::Dictionary(properties),
    ];
    if has_element_ids(version) {
        fields.push(Value::String(element_id.to_owned()));
    }
    st(tag::UNBOUND_RELATIONSHIP, fields)
}

/// A path from its distinct nodes and relationships (already encoded with [`node`] and
/// [`unbound_relationship`]) and the alternating indices: for each hop, the relationship index
/// (1-based, negative when traversed against its direction) then the node index.
pub fn path(nodes: Vec<Value>, rels: Vec<Value>, indices: Vec<i64>) -> Value {
    st(
        tag::PATH,
        vec![
            Value::List(nodes),
            Value::List(rels),
            Value::List(indices.into_iter().map(Value::Integer).collect()),
        ],
    )
}

pub fn date(days_since_epoch: i64) -> Value {
    st(tag::DATE, vec![Value::Integer(days_since_epoch)])
}

pub fn local_time(nanos_of_day: i64) -> Value {
    st(tag::LOCAL_TIME, vec![Value::Integer(nanos_of_day)])
}

pub fn time(nanos_of_day: i64, offset_seconds: i64) -> Value {
    st(
        tag::TIME,
        vec![Value::Integer(nanos_of_day), Value::Integer(offset_seconds)],
    )
}

pub fn local_date_time(local_seconds: i64, nanos: i64) -> Value {
    st(
        tag::LOCAL_DATE_TIME,
        vec![Value::Integer(local_seconds), Value::Integer(nanos)],
    )
}

/// A zoned date-time. `local_seconds` are the seconds since the epoch of the local date-time,
/// `offset_seconds` its offset from UTC; `zone` its IANA name when it has one.
pub fn date_time(
    version: Version,
    local_seconds: i64,
    nanos: i64,
    offset_seconds: i64,
    zone: Option<&str>,
) -> Value {
    let utc = version.major >= 5;
    let seconds = if utc {
        local_seconds - offset_seconds
    } else {
        local_seconds
    };
    match zone {
        Some(zone) => st(
            if utc {
                tag::DATE_TIME_ZONE_ID
            } else {
                tag::LEGACY_DATE_TIME_ZONE_ID
            },
            vec![
                Value::Integer(seconds),
                Value::Integer(nanos),
                Value::String(zone.to_owned()),
            ],
        ),
        None => st(
            if utc {
                tag::DATE_TIME
            } else {
                tag::LEGACY_DATE_TIME
            },
            vec![
                Value::Integer(seconds),
                Value::Integer(nanos),
                Value::Integer(offset_seconds),
            ],
        ),
    }
}

pub fn duration(months: i64, days: i64, seconds: i64, nanos: i64) -> Value {
    st(
        tag::DURATION,
        vec![
            Value::Integer(months),
            Value::Integer(days),
            Value::Integer(seconds),
            Value::Integer(nanos),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_carry_element_ids_only_from_5_0() {
        let v5 = node(Version::new(5, 4), 7, "a", vec!["L".into()], vec![]);
        let v4 = node(Version::new(4, 4), 7, "a", vec!["L".into()], vec![]);
        match (v5, v4) {
            (Value::Structure { fields: f5, .. }, Value::Structure { fields: f4, .. }) => {
                assert_eq!(f5.len(), 4);
                assert_eq!(f5[3], Value::String("a".into()));
                assert_eq!(f4.len(), 3);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn date_time_is_utc_in_5x_and_local_in_4x() {
        // 1970-01-01T02:00+02:00 is 00:00 UTC.
        let v5 = date_time(Version::new(5, 0), 7200, 0, 7200, None);
        let v4 = date_time(Version::new(4, 4), 7200, 0, 7200, None);
        assert_eq!(
            v5,
            st(
                tag::DATE_TIME,
                vec![Value::Integer(0), Value::Integer(0), Value::Integer(7200)]
            )
        );
        assert_eq!(
            v4,
            st(
                tag::LEGACY_DATE_TIME,
                vec![
                    Value::Integer(7200),
                    Value::Integer(0),
                    Value::Integer(7200)
                ]
            )
        );
        let z = date_time(Version::new(5, 4), 0, 5, 0, Some("Europe/Paris"));
        assert!(matches!(
            z,
            Value::Structure {
                tag: tag::DATE_TIME_ZONE_ID,
                ..
            }
        ));
    }
}
