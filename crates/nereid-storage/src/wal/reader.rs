//! Reading a log segment: splits it into records and classifies what follows the last good
//! one. An all-zero record header is where the log ends (no record has length 0): the
//! zeros the writer wrote ahead follow it. A bad record that reaches the end of the file (or
//! is followed only by zeros) is a torn write from a crash — it was never acknowledged — and
//! is cut off; so is data after a zero header (a write into the zeros whose first sector
//! did not reach the disk). A bad record with data after it is corruption of acknowledged
//! data and stops the open with an error naming the file and offset: silently skipping it
//! would lose committed transactions.

use super::{MAX_RECORD_LEN, RECORD_HEADER_LEN};

/// How a segment ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tail {
    /// Every byte belongs to a valid record.
    Clean,
    /// The log ends at `offset`; only zeros written ahead follow.
    Padded { offset: u64 },
    /// What a write that never completed left from `offset` on: a partial record (with
    /// nothing but zeros after it), or data after an all-zero record header.
    Torn { offset: u64, reason: &'static str },
    /// A bad record at `offset` with more data after it.
    Corrupt { offset: u64, reason: &'static str },
}

/// The records of one segment body (after the header) and how it ends.
pub(crate) struct Scan<'a> {
    /// `(offset of the record in the file, payload)`.
    pub records: Vec<(u64, &'a [u8])>,
    pub tail: Tail,
}

/// Scans `body`, which starts at file offset `base`.
pub(crate) fn scan(body: &[u8], base: u64) -> Scan<'_> {
    let mut records = Vec::new();
    let mut pos = 0usize;
    let tail = loop {
        if pos == body.len() {
            break Tail::Clean;
        }
        let offset = base + pos as u64;
        let rest = &body[pos..];
        if rest.len() < RECORD_HEADER_LEN {
            break Tail::Torn {
                offset,
                reason: "incomplete record header",
            };
        }
        if rest[..RECORD_HEADER_LEN].iter().all(|b| *b == 0) {
            break if rest.iter().all(|b| *b == 0) {
                Tail::Padded { offset }
            } else {
                Tail::Torn {
                    offset,
                    reason: "an unfinished write after the end of the log",
                }
            };
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        if len > MAX_RECORD_LEN {
            break Tail::Corrupt {
                offset,
                reason: "record length out of range",
            };
        }
        let end = RECORD_HEADER_LEN + len as usize;
        if end > rest.len() {
            break Tail::Torn {
                offset,
                reason: "record extends past the end of the file",
            };
        }
        let payload = &rest[RECORD_HEADER_LEN..end];
        let mut h = crc32fast::Hasher::new();
        h.update(&rest[0..4]);
        h.update(payload);
        if h.finalize() != crc {
            if rest[end..].iter().all(|b| *b == 0) {
                break Tail::Torn {
                    offset,
                    reason: "checksum mismatch in the last record",
                };
            }
            break Tail::Corrupt {
                offset,
                reason: "checksum mismatch",
            };
        }
        records.push((offset, payload));
        pos += end;
    };
    Scan { records, tail }
}

#[cfg(test)]
mod tests {
    use super::super::frame;
    use super::*;

    fn log(payloads: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in payloads {
            frame(p, &mut out);
        }
        out
    }

    #[test]
    fn every_truncation_is_a_torn_tail_after_the_complete_records() {
        let full = log(&[b"one", b"two", b"three"]);
        let ends = [0usize, 11, 22, full.len()];
        for cut in 0..=full.len() {
            let s = scan(&full[..cut], 32);
            let complete = ends.iter().filter(|e| **e <= cut).count() - 1;
            assert_eq!(s.records.len(), complete, "cut {cut}");
            if ends.contains(&cut) {
                assert_eq!(s.tail, Tail::Clean);
            } else {
                assert!(
                    matches!(s.tail, Tail::Torn { offset, .. } if offset == 32 + ends[complete] as u64),
                    "cut {cut}: {:?}",
                    s.tail
                );
            }
        }
    }

    #[test]
    fn a_flipped_bit_in_the_middle_is_corruption_with_its_offset() {
        let mut full = log(&[b"one", b"two", b"three"]);
        full[11 + 9] ^= 0x40; // inside the payload of the second record
        let s = scan(&full, 32);
        assert_eq!(s.records.len(), 1);
        assert!(
            matches!(s.tail, Tail::Corrupt { offset: 43, .. }),
            "{:?}",
            s.tail
        );
    }

    #[test]
    fn a_flipped_bit_in_the_last_record_is_a_torn_tail() {
        let mut full = log(&[b"one", b"two"]);
        let n = full.len();
        full[n - 1] ^= 1;
        let s = scan(&full, 0);
        assert_eq!(s.records.len(), 1);
        assert!(matches!(s.tail, Tail::Torn { offset: 11, .. }));
    }

    #[test]
    fn zeros_after_the_records_are_padding() {
        let mut full = log(&[b"one", b"two"]);
        full.extend_from_slice(&[0u8; 100]);
        let s = scan(&full, 32);
        assert_eq!(s.records.len(), 2);
        assert_eq!(s.tail, Tail::Padded { offset: 32 + 22 });
        // Fewer zeros than a record header are a torn header, not padding.
        let mut short = log(&[b"one"]);
        short.extend_from_slice(&[0u8; 7]);
        assert!(matches!(
            scan(&short, 0).tail,
            Tail::Torn { offset: 11, .. }
        ));
    }

    #[test]
    fn a_bad_record_followed_by_zeros_is_torn() {
        let mut full = log(&[b"one", b"two"]);
        full[11 + 9] ^= 1;
        full.extend_from_slice(&[0u8; 100]);
        let s = scan(&full, 0);
        assert_eq!(s.records.len(), 1);
        assert!(
            matches!(s.tail, Tail::Torn { offset: 11, .. }),
            "{:?}",
            s.tail
        );
    }

    #[test]
    fn data_after_a_zero_header_is_an_unfinished_write() {
        // The record after "one" reached the disk except for its first sector.
        let mut full = log(&[b"one"]);
        let mut second = log(&[b"a record whose header sector was lost"]);
        second[..8].fill(0);
        full.extend_from_slice(&second);
        full.extend_from_slice(&[0u8; 100]);
        let s = scan(&full, 0);
        assert_eq!(s.records.len(), 1);
        assert!(
            matches!(s.tail, Tail::Torn { offset: 11, .. }),
            "{:?}",
            s.tail
        );
    }
}
