//! PackStream v1: the binary value format Bolt messages are written in.
//!
//! Owns the [`Value`] model, [`encode`] (always the smallest marker for a size or integer, as the
//! spec asks of writers) and [`decode`]. The decoder reads untrusted bytes: it never panics, it
//! checks every declared size against the bytes actually present before allocating, and it caps
//! nesting at [`MAX_DEPTH`] so a hostile `91 91 91 ...` cannot exhaust the stack.

use thiserror::Error;

/// Deepest nesting of lists, dictionaries and structures the decoder accepts. Real Bolt messages
/// nest a handful of levels (message → map → list → node → map); 64 leaves room for user data.
pub const MAX_DEPTH: usize = 64;

/// A PackStream value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Boolean(bool),
    Integer(i64),
    Float(f64),
    Bytes(Vec<u8>),
    String(String),
    List(Vec<Value>),
    /// Keys in wire order; duplicates are kept as sent (the spec leaves them to the reader).
    Dictionary(Vec<(String, Value)>),
    /// A tagged structure: Bolt messages and graph types (Node, Relationship, ...).
    Structure {
        tag: u8,
        fields: Vec<Value>,
    },
}

/// The allocator's own bytes per heap allocation (glibc: a 16-byte header).
const ALLOCATION: usize = 16;

impl Value {
    /// Estimated bytes this value takes in memory, inline and on the heap: what a server
    /// holding it charges to a memory budget. Errs on the high side.
    pub fn estimated_size(&self) -> usize {
        std::mem::size_of::<Value>() + self.heap_size()
    }

    fn heap_size(&self) -> usize {
        let buffer = |cap: usize| if cap == 0 { 0 } else { ALLOCATION + cap };
        match self {
            Value::Null | Value::Boolean(_) | Value::Integer(_) | Value::Float(_) => 0,
            Value::Bytes(b) => buffer(b.capacity()),
            Value::String(s) => buffer(s.capacity()),
            Value::List(items) | Value::Structure { fields: items, .. } => {
                buffer(items.capacity() * std::mem::size_of::<Value>())
                    + items.iter().map(Value::heap_size).sum::<usize>()
            }
            Value::Dictionary(entries) => {
                buffer(entries.capacity() * std::mem::size_of::<(String, Value)>())
                    + entries
                        .iter()
                        .map(|(k, v)| buffer(k.capacity()) + v.heap_size())
                        .sum::<usize>()
            }
        }
    }
}

/// Estimated bytes a record (one row of values) takes: see [`Value::estimated_size`].
pub fn record_size(record: &[Value]) -> usize {
    std::mem::size_of::<Vec<Value>>()
        + ALLOCATION
        + record.iter().map(Value::estimated_size).sum::<usize>()
}

/// Why a byte string is not a valid PackStream value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("PackStream: input ended at byte {offset}, {needed} more byte(s) needed")]
    UnexpectedEnd { offset: usize, needed: usize },
    #[error("PackStream: unknown marker 0x{marker:02X} at byte {offset}")]
    UnknownMarker { marker: u8, offset: usize },
    #[error("PackStream: string at byte {offset} is not valid UTF-8")]
    InvalidUtf8 { offset: usize },
    #[error("PackStream: dictionary key at byte {offset} is not a string")]
    NonStringKey { offset: usize },
    #[error("PackStream: nesting deeper than {MAX_DEPTH} levels at byte {offset}")]
    TooDeep { offset: usize },
    #[error("PackStream: {count} trailing byte(s) after the value")]
    TrailingBytes { count: usize },
}

/// Why a value cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    #[error("PackStream: a {kind} of {len} items/bytes exceeds the 2^32-1 limit")]
    TooLong { kind: &'static str, len: usize },
    #[error("PackStream: a structure has {0} fields; at most 15 are allowed")]
    TooManyFields(usize),
}

/// Encodes `value`, appending to `out`.
pub fn encode(value: &Value, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    match value {
        Value::Null => out.push(0xC0),
        Value::Boolean(false) => out.push(0xC2),
        Value::Boolean(true) => out.push(0xC3),
        Value::Integer(i) => encode_int(*i, out),
        Value::Float(f) => {
            out.push(0xC1);
            out.extend_from_slice(&f.to_bits().to_be_bytes());
        }
        Value::Bytes(b) => {
            // Bytes have no tiny form.
            header(out, b.len(), None, [0xCC, 0xCD, 0xCE], "byte array")?;
            out.extend_from_slice(b);
        }
        Value::String(s) => encode_str(s, out)?,
        Value::List(items) => {
            header(out, items.len(), Some(0x90), [0xD4, 0xD5, 0xD6], "list")?;
            for item in items {
                encode(item, out)?;
            }
        }
        Value::Dictionary(entries) => {
            header(
                out,
                entries.len(),
                Some(0xA0),
                [0xD8, 0xD9, 0xDA],
                "dictionary",
            )?;
            for (k, v) in entries {
                encode_str(k, out)?;
                encode(v, out)?;
            }
        }
        Value::Structure { tag, fields } => {
            if fields.len() > 15 {
                return Err(EncodeError::TooManyFields(fields.len()));
            }
            out.push(0xB0 | fields.len() as u8);
            out.push(*tag);
            for f in fields {
                encode(f, out)?;
            }
        }
    }
    Ok(())
}

/// Encodes `value` into a new buffer.
pub fn to_bytes(value: &Value) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    encode(value, &mut out)?;
    Ok(out)
}

fn encode_int(i: i64, out: &mut Vec<u8>) {
    if (-16..=127).contains(&i) {
        out.push(i as u8);
    } else if let Ok(v) = i8::try_from(i) {
        out.push(0xC8);
        out.push(v as u8);
    } else if let Ok(v) = i16::try_from(i) {
        out.push(0xC9);
        out.extend_from_slice(&v.to_be_bytes());
    } else if let Ok(v) = i32::try_from(i) {
        out.push(0xCA);
        out.extend_from_slice(&v.to_be_bytes());
    } else {
        out.push(0xCB);
        out.extend_from_slice(&i.to_be_bytes());
    }
}

fn encode_str(s: &str, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    header(out, s.len(), Some(0x80), [0xD0, 0xD1, 0xD2], "string")?;
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// Writes a size header: the tiny marker (sizes 0..=15) if the type has one, else the 8/16/32-bit
/// marker followed by the big-endian size.
fn header(
    out: &mut Vec<u8>,
    len: usize,
    tiny: Option<u8>,
    wide: [u8; 3],
    kind: &'static str,
) -> Result<(), EncodeError> {
    match tiny {
        Some(t) if len < 16 => out.push(t | len as u8),
        _ => {
            if let Ok(n) = u8::try_from(len) {
                out.extend_from_slice(&[wide[0], n]);
            } else if let Ok(n) = u16::try_from(len) {
                out.push(wide[1]);
                out.extend_from_slice(&n.to_be_bytes());
            } else if let Ok(n) = u32::try_from(len) {
                out.push(wide[2]);
                out.extend_from_slice(&n.to_be_bytes());
            } else {
                return Err(EncodeError::TooLong { kind, len });
            }
        }
    }
    Ok(())
}

/// Decodes exactly one value occupying all of `input`.
pub fn decode(input: &[u8]) -> Result<Value, DecodeError> {
    let mut d = Decoder { input, pos: 0 };
    let v = d.value(0)?;
    let rest = input.len() - d.pos;
    if rest != 0 {
        return Err(DecodeError::TrailingBytes { count: rest });
    }
    Ok(v)
}

/// Decodes one value from the front of `input`, returning it and the number of bytes it used.
pub fn decode_prefix(input: &[u8]) -> Result<(Value, usize), DecodeError> {
    let mut d = Decoder { input, pos: 0 };
    let v = d.value(0)?;
    Ok((v, d.pos))
}

struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let avail = self.input.len() - self.pos;
        if n > avail {
            return Err(DecodeError::UnexpectedEnd {
                offset: self.pos,
                needed: n - avail,
            });
        }
        let s = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn be<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    /// Reads an 8/16/32-bit unsigned size; `width` is 0, 1 or 2.
    fn size(&mut self, width: u8) -> Result<usize, DecodeError> {
        Ok(match width {
            0 => self.byte()? as usize,
            1 => u16::from_be_bytes(self.be()?) as usize,
            _ => u32::from_be_bytes(self.be()?) as usize,
        })
    }

    /// Rejects a container whose declared item count cannot fit in the remaining bytes (every item
    /// takes at least one byte), so `Vec::with_capacity` is bounded by the input length.
    fn check_items(&self, count: usize, min_item_bytes: usize) -> Result<(), DecodeError> {
        let avail = self.input.len() - self.pos;
        let need = count.saturating_mul(min_item_bytes);
        if need > avail {
            return Err(DecodeError::UnexpectedEnd {
                offset: self.pos,
                needed: need - avail,
            });
        }
        Ok(())
    }

    fn string_body(&mut self, len: usize) -> Result<String, DecodeError> {
        let at = self.pos;
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| DecodeError::InvalidUtf8 { offset: at })
    }

    fn value(&mut self, depth: usize) -> Result<Value, DecodeError> {
        let at = self.pos;
        let m = self.byte()?;
        Ok(match m {
            0x00..=0x7F => Value::Integer(m as i64),
            0xF0..=0xFF => Value::Integer(m as i8 as i64),
            0xC0 => Value::Null,
            0xC2 => Value::Boolean(false),
            0xC3 => Value::Boolean(true),
            0xC1 => Value::Float(f64::from_bits(u64::from_be_bytes(self.be()?))),
            0xC8 => Value::Integer(self.byte()? as i8 as i64),
            0xC9 => Value::Integer(i16::from_be_bytes(self.be()?) as i64),
            0xCA => Value::Integer(i32::from_be_bytes(self.be()?) as i64),
            0xCB => Value::Integer(i64::from_be_bytes(self.be()?)),
            0xCC..=0xCE => {
                let len = self.size(m - 0xCC)?;
                Value::Bytes(self.take(len)?.to_vec())
            }
            0x80..=0x8F => Value::String(self.string_body((m & 0x0F) as usize)?),
            0xD0..=0xD2 => {
                let len = self.size(m - 0xD0)?;
                Value::String(self.string_body(len)?)
            }
            0x90..=0x9F | 0xD4..=0xD6 => {
                let n = if m < 0xA0 {
                    (m & 0x0F) as usize
                } else {
                    self.size(m - 0xD4)?
                };
                self.enter(depth, at)?;
                self.check_items(n, 1)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.value(depth + 1)?);
                }
                Value::List(items)
            }
            0xA0..=0xAF | 0xD8..=0xDA => {
                let n = if m < 0xB0 {
                    (m & 0x0F) as usize
                } else {
                    self.size(m - 0xD8)?
                };
                self.enter(depth, at)?;
                // A key is at least one byte and a value at least one.
                self.check_items(n, 2)?;
                let mut entries = Vec::with_capacity(n);
                for _ in 0..n {
                    let key_at = self.pos;
                    let key = match self.value(depth + 1)? {
                        Value::String(s) => s,
                        _ => return Err(DecodeError::NonStringKey { offset: key_at }),
                    };
                    let v = self.value(depth + 1)?;
                    entries.push((key, v));
                }
                Value::Dictionary(entries)
            }
            0xB0..=0xBF => {
                let n = (m & 0x0F) as usize;
                self.enter(depth, at)?;
                let tag = self.byte()?;
                self.check_items(n, 1)?;
                let mut fields = Vec::with_capacity(n);
                for _ in 0..n {
                    fields.push(self.value(depth + 1)?);
                }
                Value::Structure { tag, fields }
            }
            _ => {
                return Err(DecodeError::UnknownMarker {
                    marker: m,
                    offset: at,
                })
            }
        })
    }

    fn enter(&self, depth: usize, at: usize) -> Result<(), DecodeError> {
        if depth >= MAX_DEPTH {
            Err(DecodeError::TooDeep { offset: at })
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn enc(v: &Value) -> Vec<u8> {
        to_bytes(v).expect("encodable")
    }

    fn round_trip(v: Value) {
        let bytes = enc(&v);
        assert_eq!(decode(&bytes).as_ref(), Ok(&v), "bytes {bytes:02X?}");
    }

    /// A small xorshift64 generator: deterministic pseudo-random bytes with no dependency.
    pub(crate) struct XorShift(pub u64);
    impl XorShift {
        pub(crate) fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
        pub(crate) fn bytes(&mut self, max_len: usize) -> Vec<u8> {
            let len = (self.next() % (max_len as u64 + 1)) as usize;
            (0..len).map(|_| self.next() as u8).collect()
        }
    }

    #[test]
    fn integers_use_the_spec_examples_and_smallest_encoding() {
        let cases: &[(i64, &[u8])] = &[
            (1, &[0x01]),
            (0, &[0x00]),
            (127, &[0x7F]),
            (-1, &[0xFF]),
            (-16, &[0xF0]),
            (-17, &[0xC8, 0xEF]),
            (-128, &[0xC8, 0x80]),
            (128, &[0xC9, 0x00, 0x80]),
            (-129, &[0xC9, 0xFF, 0x7F]),
            (32767, &[0xC9, 0x7F, 0xFF]),
            (32768, &[0xCA, 0x00, 0x00, 0x80, 0x00]),
            (-32769, &[0xCA, 0xFF, 0xFF, 0x7F, 0xFF]),
            (2147483647, &[0xCA, 0x7F, 0xFF, 0xFF, 0xFF]),
            (2147483648, &[0xCB, 0, 0, 0, 0, 0x80, 0, 0, 0]),
            (
                i64::MAX,
                &[0xCB, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
            ),
            (i64::MIN, &[0xCB, 0x80, 0, 0, 0, 0, 0, 0, 0]),
        ];
        for (i, bytes) in cases {
            assert_eq!(enc(&Value::Integer(*i)), *bytes, "{i}");
            assert_eq!(decode(bytes), Ok(Value::Integer(*i)));
        }
    }

    #[test]
    fn wide_integer_markers_are_accepted_for_small_values() {
        // Writers should use the smallest form, but readers must accept any.
        assert_eq!(
            decode(&[0xCB, 0, 0, 0, 0, 0, 0, 0, 1]),
            Ok(Value::Integer(1))
        );
        assert_eq!(decode(&[0xC8, 0x01]), Ok(Value::Integer(1)));
    }

    #[test]
    fn scalars_match_the_spec_bytes() {
        assert_eq!(enc(&Value::Null), [0xC0]);
        assert_eq!(enc(&Value::Boolean(true)), [0xC3]);
        assert_eq!(enc(&Value::Boolean(false)), [0xC2]);
        assert_eq!(
            enc(&Value::Float(1.1)),
            [0xC1, 0x3F, 0xF1, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9A]
        );
        assert_eq!(enc(&Value::String("a".into())), [0x81, 0x61]);
        assert_eq!(enc(&Value::String(String::new())), [0x80]);
        assert_eq!(enc(&Value::Bytes(vec![1, 2])), [0xCC, 0x02, 1, 2]);
        assert_eq!(enc(&Value::Dictionary(vec![])), [0xA0]);
        assert_eq!(enc(&Value::List(vec![])), [0x90]);
        assert_eq!(
            enc(&Value::List(vec![
                Value::Integer(1),
                Value::Integer(2),
                Value::Integer(3)
            ])),
            [0x93, 0x01, 0x02, 0x03]
        );
        assert_eq!(
            enc(&Value::Dictionary(vec![("a".into(), Value::Integer(1))])),
            [0xA1, 0x81, 0x61, 0x01]
        );
        assert_eq!(
            enc(&Value::Structure {
                tag: 0x0F,
                fields: vec![]
            }),
            [0xB0, 0x0F]
        );
        assert_eq!(
            enc(&Value::Structure {
                tag: 0x4E,
                fields: vec![Value::Integer(1)]
            }),
            [0xB1, 0x4E, 0x01]
        );
    }

    #[test]
    fn every_type_round_trips_across_size_boundaries() {
        for i in [
            -16,
            -17,
            127,
            128,
            -128,
            -129,
            32767,
            32768,
            -32768,
            -32769,
            i32::MAX as i64,
            i32::MAX as i64 + 1,
            i32::MIN as i64,
            i32::MIN as i64 - 1,
            i64::MAX,
            i64::MIN,
        ] {
            round_trip(Value::Integer(i));
        }
        for f in [
            0.0,
            -0.0,
            1.5,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
        ] {
            round_trip(Value::Float(f));
        }
        // NaN != NaN, so compare bits.
        match decode(&enc(&Value::Float(f64::NAN))) {
            Ok(Value::Float(f)) => assert!(f.is_nan()),
            other => panic!("{other:?}"),
        }
        for len in [0usize, 15, 16, 255, 256, 65535, 65536] {
            let s = "x".repeat(len);
            let b = enc(&Value::String(s.clone()));
            let expected_header = match len {
                0..=15 => 1,
                16..=255 => 2,
                256..=65535 => 3,
                _ => 5,
            };
            assert_eq!(b.len(), len + expected_header, "string {len}");
            round_trip(Value::String(s));
            round_trip(Value::Bytes(vec![7; len]));
            round_trip(Value::List(vec![Value::Null; len]));
            round_trip(Value::Dictionary(
                (0..len)
                    .map(|k| (k.to_string(), Value::Integer(k as i64)))
                    .collect(),
            ));
        }
        round_trip(Value::String("héllo ✓".into()));
        round_trip(Value::Structure {
            tag: 0x4E,
            fields: vec![
                Value::Integer(1),
                Value::List(vec![Value::String("Person".into())]),
                Value::Dictionary(vec![("name".into(), Value::String("Ann".into()))]),
                Value::String("n1".into()),
            ],
        });
        round_trip(Value::Structure {
            tag: 1,
            fields: vec![Value::Null; 15],
        });
    }

    #[test]
    fn structure_with_more_than_15_fields_is_refused() {
        let v = Value::Structure {
            tag: 1,
            fields: vec![Value::Null; 16],
        };
        assert_eq!(to_bytes(&v), Err(EncodeError::TooManyFields(16)));
    }

    #[test]
    fn sizes_beyond_the_input_are_rejected_without_allocating() {
        // A list claiming 4 billion items in a 5-byte input.
        assert!(matches!(
            decode(&[0xD6, 0xFF, 0xFF, 0xFF, 0xFF]),
            Err(DecodeError::UnexpectedEnd { .. })
        ));
        assert!(matches!(
            decode(&[0xDA, 0xFF, 0xFF, 0xFF, 0xFF]),
            Err(DecodeError::UnexpectedEnd { .. })
        ));
        assert!(matches!(
            decode(&[0xD2, 0xFF, 0xFF, 0xFF, 0xFF, 0x61]),
            Err(DecodeError::UnexpectedEnd { .. })
        ));
        assert!(matches!(
            decode(&[0xCE, 0x00, 0x00, 0x00, 0x02, 0x61]),
            Err(DecodeError::UnexpectedEnd { .. })
        ));
        assert_eq!(
            decode(&[0xC9, 0x00]),
            Err(DecodeError::UnexpectedEnd {
                offset: 1,
                needed: 1
            })
        );
        assert!(matches!(
            decode(&[]),
            Err(DecodeError::UnexpectedEnd { .. })
        ));
    }

    #[test]
    fn malformed_values_get_specific_errors() {
        assert_eq!(
            decode(&[0xC4]),
            Err(DecodeError::UnknownMarker {
                marker: 0xC4,
                offset: 0
            })
        );
        assert_eq!(
            decode(&[0x82, 0xFF, 0xFE]),
            Err(DecodeError::InvalidUtf8 { offset: 1 })
        );
        assert_eq!(
            decode(&[0xA1, 0x01, 0x01]),
            Err(DecodeError::NonStringKey { offset: 1 })
        );
        assert_eq!(
            decode(&[0x01, 0x02]),
            Err(DecodeError::TrailingBytes { count: 1 })
        );
        assert_eq!(decode_prefix(&[0x01, 0x02]), Ok((Value::Integer(1), 1)));
    }

    #[test]
    fn nesting_is_capped() {
        let mut ok = vec![0x91; MAX_DEPTH];
        ok.push(0xC0);
        assert!(decode(&ok).is_ok());
        let mut deep = vec![0x91; MAX_DEPTH + 1];
        deep.push(0xC0);
        assert_eq!(
            decode(&deep),
            Err(DecodeError::TooDeep { offset: MAX_DEPTH })
        );
        // Deep input far past the cap returns an error rather than overflowing the stack.
        let hostile = vec![0xB1; 1_000_000];
        assert!(decode(&hostile).is_err());
    }

    #[test]
    fn random_bytes_never_panic_the_decoder() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..20_000 {
            let b = rng.bytes(64);
            let _ = decode(&b);
            let _ = decode_prefix(&b);
        }
        // Mutations of a valid message reach deeper paths than pure noise.
        let valid = enc(&Value::Structure {
            tag: 0x10,
            fields: vec![
                Value::String("RETURN 1".into()),
                Value::Dictionary(vec![("x".into(), Value::List(vec![Value::Float(1.0)]))]),
                Value::Dictionary(vec![]),
            ],
        });
        for _ in 0..20_000 {
            let mut b = valid.clone();
            let i = (rng.next() as usize) % b.len();
            b[i] = rng.next() as u8;
            let cut = (rng.next() as usize) % (b.len() + 1);
            let _ = decode(&b[..cut]);
            let _ = decode(&b);
        }
    }
}
