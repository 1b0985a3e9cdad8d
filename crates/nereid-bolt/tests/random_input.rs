//! The decoders over random and mutated bytes, a few thousand inputs each with a fixed seed:
//! the handshake, the chunk reader, PackStream and message decoding must answer every input
//! with a value or an error, never a panic, a hang or unbounded memory. (`fuzz/` has the
//! same targets for cargo-fuzz, to run for longer.)

use nereid_bolt::chunk::{self, ChunkReader};
use nereid_bolt::handshake;
use nereid_bolt::message::Request;
use nereid_bolt::packstream::{self, Value};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        (0..len).map(|_| self.next() as u8).collect()
    }
}

const ITERATIONS: usize = 5_000;

/// Valid requests to mutate: their bytes are close to what a real client sends, so mutations
/// reach deep into the decoders.
fn seeds() -> Vec<Vec<u8>> {
    let d = |pairs: Vec<(&str, Value)>| {
        Value::Dictionary(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    };
    let st = |tag: u8, fields: Vec<Value>| Value::Structure { tag, fields };
    let messages = vec![
        st(
            0x01,
            vec![d(vec![
                ("user_agent", Value::String("fuzz/1".into())),
                ("scheme", Value::String("basic".into())),
            ])],
        ),
        st(
            0x10,
            vec![
                Value::String("MATCH (n) WHERE n.x > $p RETURN n".into()),
                d(vec![(
                    "p",
                    Value::List(vec![Value::Integer(1), Value::Float(2.5), Value::Null]),
                )]),
                d(vec![
                    ("mode", Value::String("r".into())),
                    (
                        "bookmarks",
                        Value::List(vec![Value::String("nereid:1".into())]),
                    ),
                ]),
            ],
        ),
        st(0x11, vec![d(vec![("tx_timeout", Value::Integer(500))])]),
        st(
            0x3F,
            vec![d(vec![
                ("n", Value::Integer(1000)),
                ("qid", Value::Integer(-1)),
            ])],
        ),
        st(0x2F, vec![d(vec![("n", Value::Integer(-1))])]),
        st(0x12, vec![]),
        st(0x13, vec![]),
        st(0x0F, vec![]),
        st(
            0x66,
            vec![d(vec![]), Value::List(vec![]), d(vec![("db", Value::Null)])],
        ),
        st(
            0x10,
            vec![
                Value::String("RETURN $d".into()),
                d(vec![("d", st(b'D', vec![Value::Integer(19_000)]))]),
            ],
        ),
    ];
    messages
        .iter()
        .map(|m| packstream::to_bytes(m).expect("encodable seed"))
        .collect()
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(4) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = rng.next() as u8;
            }
            1 if !out.is_empty() => {
                let i = rng.below(out.len());
                out.truncate(i);
            }
            2 => {
                let i = rng.below(out.len() + 1);
                let extra = rng.bytes(8);
                out.splice(i..i, extra);
            }
            _ if !out.is_empty() => {
                // A length marker pushed to its maximum.
                let i = rng.below(out.len());
                out[i] = [0xD6, 0xDA, 0xD2, 0xD4, 0xDC, 0xDD][rng.below(6)];
            }
            _ => {}
        }
    }
    out
}

#[test]
fn packstream_and_message_decoding_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let seeds = seeds();
    let mut decoded = 0;
    for i in 0..ITERATIONS {
        let input = if i % 2 == 0 {
            rng.bytes(64)
        } else {
            mutate(&mut rng, &seeds[i % seeds.len()])
        };
        if packstream::decode(&input).is_ok() {
            decoded += 1;
        }
        let _ = Request::decode(&input);
        // Whatever decodes re-encodes.
        if let Ok(v) = packstream::decode(&input) {
            let mut out = Vec::new();
            let _ = packstream::encode(&v, &mut out);
        }
    }
    // The mutations must not all be rejected at the first byte.
    assert!(decoded > ITERATIONS / 20, "only {decoded} inputs decoded");
    for seed in &seeds {
        assert!(
            Request::decode(seed).is_ok(),
            "seed {seed:02X?} must decode"
        );
    }
}

#[test]
fn the_chunk_reader_survives_random_streams_in_random_splits() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let seeds = seeds();
    let max_message = 4096;
    for i in 0..ITERATIONS {
        let mut wire = Vec::new();
        for _ in 0..1 + rng.below(3) {
            if rng.below(2) == 0 {
                chunk::write_message(&mutate(&mut rng, &seeds[i % seeds.len()]), &mut wire);
            } else {
                wire.extend(rng.bytes(32));
            }
        }
        let mut reader = ChunkReader::new(max_message);
        let mut at = 0;
        'feed: while at < wire.len() {
            let step = 1 + rng.below(16);
            let end = (at + step).min(wire.len());
            reader.push(&wire[at..end]);
            at = end;
            loop {
                match reader.next_message() {
                    Ok(Some(m)) => {
                        assert!(m.len() <= max_message);
                        let _ = Request::decode(&m);
                    }
                    Ok(None) => break,
                    // Framing is lost: a server closes the connection here.
                    Err(_) => break 'feed,
                }
            }
        }
    }
}

#[test]
fn an_oversized_message_is_refused_before_it_is_buffered() {
    let mut reader = ChunkReader::new(100_000);
    let chunk = vec![0x41u8; chunk::MAX_CHUNK];
    let mut wire = Vec::new();
    for _ in 0..2 {
        wire.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
        wire.extend_from_slice(&chunk);
    }
    reader.push(&wire);
    assert!(reader.next_message().is_err());
}

#[test]
fn random_openings_are_answered_without_panicking() {
    let mut rng = Rng(0x94D0_49BB_1331_11EB);
    let mut agreed = 0;
    for i in 0..ITERATIONS {
        let mut opening = [0u8; 20];
        for b in opening.iter_mut() {
            *b = rng.next() as u8;
        }
        if i % 2 == 0 {
            opening[..4].copy_from_slice(&handshake::MAGIC);
        }
        if let handshake::Handshake::Agreed(v) = handshake::negotiate(&opening) {
            agreed += 1;
            assert!(v.response().len() == 4);
        }
    }
    // Random versions rarely match; the point is that none of them panics.
    assert!(agreed < ITERATIONS);
    // Random answers to the manifest: every prefix is read without panicking, and a
    // complete one is a pick, "none" or invalid, never more than 4 + 10 bytes.
    for _ in 0..ITERATIONS {
        let len = (rng.next() % 20) as usize;
        let reply: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        for n in 0..=reply.len() {
            let answer = handshake::manifest_reply(&reply[..n]);
            if n > 4 + handshake::MAX_VARINT_BYTES {
                assert_ne!(answer, handshake::ManifestReply::NeedMore);
            }
        }
    }
}
