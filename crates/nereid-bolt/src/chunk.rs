//! Bolt message framing: each message is sent as chunks of at most 65,535 bytes, each prefixed by
//! its 2-byte big-endian length, and ended by a zero-length chunk (`00 00`).
//!
//! Owns [`write_message`] (splitting) and [`ChunkReader`] (incremental reassembly from arbitrary
//! socket reads). A `00 00` that arrives while no message is in progress is a NOOP keep-alive
//! (Bolt 4.1+) and is skipped. The reader enforces a maximum message size so a client cannot make
//! the server buffer unbounded data.

use thiserror::Error;

/// The largest chunk payload the 2-byte header can describe.
pub const MAX_CHUNK: usize = 65_535;

/// Why the byte stream cannot be framed into messages.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChunkError {
    #[error("Bolt message exceeds the maximum size of {max} bytes")]
    MessageTooLarge { max: usize },
}

/// Appends `message` to `out` as chunks followed by the end marker.
pub fn write_message(message: &[u8], out: &mut Vec<u8>) {
    for piece in message.chunks(MAX_CHUNK) {
        // `chunks(MAX_CHUNK)` guarantees the length fits in a u16.
        out.extend_from_slice(&(piece.len() as u16).to_be_bytes());
        out.extend_from_slice(piece);
    }
    out.extend_from_slice(&[0, 0]);
}

/// Reassembles messages from bytes fed in any split.
#[derive(Debug)]
pub struct ChunkReader {
    max_message: usize,
    /// Bytes received but not yet consumed (at most one partial chunk header or body).
    pending: Vec<u8>,
    /// The message being assembled.
    message: Vec<u8>,
    /// True once a non-empty chunk of the current message has been seen, so a following `00 00`
    /// ends it rather than being a NOOP.
    in_message: bool,
}

impl ChunkReader {
    pub fn new(max_message: usize) -> Self {
        Self {
            max_message,
            pending: Vec::new(),
            message: Vec::new(),
            in_message: false,
        }
    }

    /// Adds received bytes. Call [`next_message`](Self::next_message) until it returns `None`.
    pub fn push(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
    }

    /// Returns the next complete message, `Ok(None)` if more bytes are needed, or an error if the
    /// message would exceed the maximum size (the connection should then be closed: framing is
    /// lost).
    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, ChunkError> {
        let mut pos = 0;
        let result = loop {
            let Some(header) = self.pending.get(pos..pos + 2) else {
                break Ok(None);
            };
            let len = u16::from_be_bytes([header[0], header[1]]) as usize;
            if len == 0 {
                pos += 2;
                if self.in_message {
                    self.in_message = false;
                    break Ok(Some(std::mem::take(&mut self.message)));
                }
                // NOOP keep-alive between messages.
                continue;
            }
            // Check before buffering the body so the limit bounds memory, not just output.
            if self.message.len() + len > self.max_message {
                break Err(ChunkError::MessageTooLarge {
                    max: self.max_message,
                });
            }
            let Some(body) = self.pending.get(pos + 2..pos + 2 + len) else {
                break Ok(None);
            };
            self.message.extend_from_slice(body);
            self.in_message = true;
            pos += 2 + len;
        };
        self.pending.drain(..pos);
        result
    }

    /// True if no partial message or chunk is buffered (a clean point to close the connection).
    pub fn is_idle(&self) -> bool {
        self.pending.is_empty() && !self.in_message
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packstream::tests::XorShift;

    fn all(reader: &mut ChunkReader) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        while let Some(m) = reader.next_message().expect("within limit") {
            out.push(m);
        }
        out
    }

    #[test]
    fn small_message_is_one_chunk_and_an_end_marker() {
        let mut out = Vec::new();
        write_message(&[0xB0, 0x0F], &mut out);
        assert_eq!(out, [0x00, 0x02, 0xB0, 0x0F, 0x00, 0x00]);
    }

    #[test]
    fn large_message_is_split_at_65535() {
        let msg = vec![0xAB; MAX_CHUNK + 10];
        let mut out = Vec::new();
        write_message(&msg, &mut out);
        assert_eq!(&out[..2], [0xFF, 0xFF]);
        assert_eq!(&out[2 + MAX_CHUNK..4 + MAX_CHUNK], [0x00, 0x0A]);
        assert_eq!(out.len(), 2 + MAX_CHUNK + 2 + 10 + 2);
        let mut r = ChunkReader::new(1 << 20);
        r.push(&out);
        assert_eq!(all(&mut r), vec![msg]);
        assert!(r.is_idle());
    }

    #[test]
    fn messages_reassemble_from_one_byte_reads() {
        let mut wire = Vec::new();
        write_message(b"hello", &mut wire);
        wire.extend_from_slice(&[0, 0, 0, 0]); // two NOOPs
        write_message(&[1; 70_000], &mut wire);
        let mut r = ChunkReader::new(1 << 20);
        let mut got = Vec::new();
        for b in &wire {
            r.push(std::slice::from_ref(b));
            got.extend(all(&mut r));
        }
        assert_eq!(got, vec![b"hello".to_vec(), vec![1; 70_000]]);
        assert!(r.is_idle());
    }

    #[test]
    fn message_in_several_small_chunks_is_joined() {
        let wire = [0, 2, b'a', b'b', 0, 1, b'c', 0, 0];
        let mut r = ChunkReader::new(100);
        r.push(&wire);
        assert_eq!(all(&mut r), vec![b"abc".to_vec()]);
    }

    #[test]
    fn noop_chunks_between_messages_are_skipped() {
        let mut r = ChunkReader::new(100);
        r.push(&[0, 0, 0, 0]);
        assert_eq!(r.next_message(), Ok(None));
        assert!(r.is_idle());
    }

    #[test]
    fn oversized_message_is_refused_before_buffering_it() {
        let mut r = ChunkReader::new(10);
        r.push(&[0, 8]);
        r.push(&[0; 8]);
        r.push(&[0, 3]); // 8 + 3 > 10, refused on the header alone
        assert_eq!(
            r.next_message(),
            Err(ChunkError::MessageTooLarge { max: 10 })
        );
    }

    #[test]
    fn random_bytes_never_panic_the_reader() {
        let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
        for _ in 0..5_000 {
            let mut r = ChunkReader::new(1_000);
            for _ in 0..4 {
                r.push(&rng.bytes(300));
                while let Ok(Some(_)) = r.next_message() {}
            }
        }
    }
}
