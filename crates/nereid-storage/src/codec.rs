//! Binary encoding helpers shared by the WAL and snapshot files: little-endian fixed-width
//! integers, LEB128 varints and length-prefixed strings. Decoding never panics: a short or
//! malformed buffer is a [`DecodeError`], which the callers turn into an error naming the
//! file and offset.

/// A malformed buffer (truncated, bad tag, invalid UTF-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodeError(pub &'static str);

pub(crate) type DecodeResult<T> = Result<T, DecodeError>;

/// Appends encoded values to a byte buffer.
#[derive(Default)]
pub(crate) struct Encoder {
    pub buf: Vec<u8>,
}

impl Encoder {
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub fn u32_le(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn u64_le(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn var(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    /// Zig-zag encoded signed varint.
    pub fn ivar(&mut self, v: i64) {
        self.var(((v << 1) ^ (v >> 63)) as u64);
    }

    pub fn bytes(&mut self, b: &[u8]) {
        self.var(b.len() as u64);
        self.buf.extend_from_slice(b);
    }

    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
}

/// Reads encoded values from a byte slice.
pub(crate) struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    fn take(&mut self, n: usize) -> DecodeResult<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or(DecodeError("unexpected end of data"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    pub fn u8(&mut self) -> DecodeResult<u8> {
        Ok(self.take(1)?[0])
    }

    pub fn u64_le(&mut self) -> DecodeResult<u64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    pub fn var(&mut self) -> DecodeResult<u64> {
        let mut v: u64 = 0;
        let mut shift = 0u32;
        loop {
            let b = self.u8()?;
            if shift >= 64 || (shift == 63 && b > 1) {
                return Err(DecodeError("varint too long"));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
            shift += 7;
        }
    }

    /// A varint that must fit a `u32` (dictionary ids).
    pub fn var32(&mut self) -> DecodeResult<u32> {
        u32::try_from(self.var()?).map_err(|_| DecodeError("id out of range"))
    }

    /// A length that must fit in the remaining buffer (guards allocations).
    pub fn len(&mut self) -> DecodeResult<usize> {
        let n = self.var()?;
        usize::try_from(n)
            .ok()
            .filter(|n| *n <= self.buf.len() - self.pos.min(self.buf.len()))
            .ok_or(DecodeError("length exceeds data"))
    }

    pub fn ivar(&mut self) -> DecodeResult<i64> {
        let v = self.var()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    pub fn bytes(&mut self) -> DecodeResult<&'a [u8]> {
        let n = self.len()?;
        self.take(n)
    }

    pub fn str(&mut self) -> DecodeResult<&'a str> {
        std::str::from_utf8(self.bytes()?).map_err(|_| DecodeError("invalid UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_the_edges() {
        let mut e = Encoder::default();
        let us = [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX];
        let is = [0i64, -1, 1, i64::MIN, i64::MAX, -64, 64];
        for u in us {
            e.var(u);
        }
        for i in is {
            e.ivar(i);
        }
        e.str("héllo");
        let mut d = Decoder::new(&e.buf);
        for u in us {
            assert_eq!(d.var().unwrap(), u);
        }
        for i in is {
            assert_eq!(d.ivar().unwrap(), i);
        }
        assert_eq!(d.str().unwrap(), "héllo");
        assert!(d.is_empty());
    }

    #[test]
    fn truncated_input_is_an_error_not_a_panic() {
        let mut e = Encoder::default();
        e.str("abcdef");
        for cut in 0..e.buf.len() {
            assert!(Decoder::new(&e.buf[..cut]).str().is_err());
        }
        assert!(Decoder::new(&[0xff; 11]).var().is_err());
    }
}
