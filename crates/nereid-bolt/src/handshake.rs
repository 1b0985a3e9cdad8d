//! The Bolt handshake: the client's 20 opening bytes (magic `60 60 B0 17` and four 4-byte version
//! proposals) and the server's answer.
//!
//! A proposal is `[0, range, minor, major]`: it offers `major.minor` down to
//! `major.(minor - range)`. The server answers with the newest version it supports among all
//! proposals (`[0, 0, minor, major]`), or `00 00 00 00` and closes the connection.
//!
//! Versions served: 5.0–5.4 and 4.4–4.0 ([`SUPPORTED`]). 5.4 is the ceiling because it is the
//! newest version whose message set this crate decodes completely (LOGON/LOGOFF from 5.1,
//! TELEMETRY from 5.4); 5.5+ only change semantics we have not implemented yet.
//!
//! **Manifest v1** (Bolt 5.7+ handshake): a client that sends the proposal `00 00 01 FF`
//! lets the server list what it supports instead of picking, as Neo4j servers do:
//!
//! ```text
//! S: 00 00 01 FF                     manifest v1
//! S: 02                              how many ranges follow (a LEB128 varint)
//! S: 00 04 04 05  00 04 04 04        5.4 down to 5.0, 4.4 down to 4.0 ([0, range, minor, major])
//! S: 00                              capabilities offered (a varint bit mask; none)
//! C: 00 00 04 05                     the version the client picked ([0, 0, minor, major])
//! C: 00                              the capabilities it took (a varint)
//! ```
//!
//! The client then goes on with HELLO. A pick of `00 00 00 00` means it supports none of the
//! ranges; a version outside them, or a varint longer than 64 bits, is a protocol violation.
//! Every current driver that offers the manifest (neo4j Python 6.x, JavaScript 6.x,
//! Java 5.27–5.28, and 6.x through `neo4j/bolt-connection-java`) takes this path; the others get
//! a version picked from their ranges. The whole offer goes out in one write: the Java
//! driver reads the ranges in the same read as the `00 00 01 FF` (its `HandshakeHandler`
//! completes the manifest in `channelReadComplete`).

/// The 4-byte preamble every Bolt client sends first.
pub const MAGIC: [u8; 4] = [0x60, 0x60, 0xB0, 0x17];

/// The proposal that asks for manifest-style negotiation (manifest v1).
pub const MANIFEST_V1: [u8; 4] = [0x00, 0x00, 0x01, 0xFF];

/// A Bolt protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u8,
    pub minor: u8,
}

impl Version {
    pub const fn new(major: u8, minor: u8) -> Self {
        Self { major, minor }
    }

    /// The server's 4-byte reply announcing this version.
    pub fn response(self) -> [u8; 4] {
        [0, 0, self.minor, self.major]
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Versions this server speaks, newest first.
pub const SUPPORTED: &[Version] = &[
    Version::new(5, 4),
    Version::new(5, 3),
    Version::new(5, 2),
    Version::new(5, 1),
    Version::new(5, 0),
    Version::new(4, 4),
    Version::new(4, 3),
    Version::new(4, 2),
    Version::new(4, 1),
    Version::new(4, 0),
];

/// The reply when no proposal matches.
pub const NO_VERSION: [u8; 4] = [0, 0, 0, 0];

/// The outcome of reading the client's opening bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handshake {
    /// Agreed on a version; send [`Version::response`] and continue with messages.
    Agreed(Version),
    /// The client offered manifest v1: send [`manifest_v1_offer`], then read its pick
    /// ([`ManifestReply`]).
    Manifest,
    /// The client is Bolt but shares no version with us; send [`NO_VERSION`] and close.
    NoCommonVersion,
    /// The first four bytes are not the Bolt magic (e.g. an HTTP request on a shared port).
    NotBolt,
}

/// True if `prefix` (possibly shorter than 4 bytes) could still be the start of a Bolt
/// handshake; used to sniff Bolt from HTTP on one listener.
pub fn may_be_bolt(prefix: &[u8]) -> bool {
    let n = prefix.len().min(4);
    prefix[..n] == MAGIC[..n]
}

/// Decides the version from the client's 20 opening bytes.
pub fn negotiate(opening: &[u8; 20]) -> Handshake {
    if opening[..4] != MAGIC {
        return Handshake::NotBolt;
    }
    if opening[4..].chunks_exact(4).any(|p| p == MANIFEST_V1) {
        return Handshake::Manifest;
    }
    let mut best: Option<Version> = None;
    for p in opening[4..].chunks_exact(4) {
        let (range, minor, major) = (p[1], p[2], p[3]);
        // `saturating_sub`: a range larger than the minor just means "down to x.0".
        let lowest = minor.saturating_sub(range);
        let hit = SUPPORTED
            .iter()
            .copied()
            .find(|v| v.major == major && v.minor <= minor && v.minor >= lowest);
        if let Some(v) = hit {
            best = Some(best.map_or(v, |b| b.max(v)));
        }
    }
    best.map_or(Handshake::NoCommonVersion, Handshake::Agreed)
}

/// The ranges of [`SUPPORTED`] as manifest entries, newest first: `[0, range, minor, major]`.
fn supported_ranges() -> Vec<[u8; 4]> {
    let mut ranges: Vec<[u8; 4]> = Vec::new();
    for v in SUPPORTED {
        match ranges.last_mut() {
            // Extends the current range downwards (SUPPORTED is newest first, no gaps).
            Some(r) if r[3] == v.major && r[2] - r[1] == v.minor + 1 => r[1] += 1,
            _ => ranges.push([0, 0, v.minor, v.major]),
        }
    }
    ranges
}

/// Appends `value` as an unsigned LEB128 varint (7 bits a byte, least significant first,
/// the high bit set on every byte but the last), the manifest's integer encoding.
fn put_varint(mut value: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (value & 0x7F) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Capabilities this server offers in the manifest (a bit mask): none.
pub const CAPABILITIES: u64 = 0;

/// The server's whole manifest v1 answer: the marker, the count of ranges, the ranges and
/// the capabilities. Written in one go.
pub fn manifest_v1_offer() -> Vec<u8> {
    let ranges = supported_ranges();
    let mut out = MANIFEST_V1.to_vec();
    put_varint(ranges.len() as u64, &mut out);
    for r in &ranges {
        out.extend_from_slice(r);
    }
    put_varint(CAPABILITIES, &mut out);
    out
}

/// Longest varint a client may send: 10 bytes carry 64 bits.
pub const MAX_VARINT_BYTES: usize = 10;

/// What the client's answer to the manifest (its pick, then its capabilities) says so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestReply {
    /// Read more bytes (the answer is not complete).
    NeedMore,
    /// The client picked this version (and `capabilities`, ignored: none were offered).
    Chosen { version: Version, capabilities: u64 },
    /// The client supports none of the offered ranges (it sent `00 00 00 00`).
    NoCommonVersion,
    /// A pick outside the offer or a malformed varint: close the connection.
    Invalid(String),
}

/// Reads the client's answer to [`manifest_v1_offer`] from the bytes received so far.
pub fn manifest_reply(bytes: &[u8]) -> ManifestReply {
    let Some(pick) = bytes.get(..4) else {
        return ManifestReply::NeedMore;
    };
    let mut capabilities = 0u64;
    let mut ended = false;
    for (i, byte) in bytes[4..].iter().enumerate() {
        if i >= MAX_VARINT_BYTES || (i == MAX_VARINT_BYTES - 1 && *byte > 1) {
            return ManifestReply::Invalid("the capabilities varint is longer than 64 bits".into());
        }
        capabilities |= u64::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            ended = true;
            break;
        }
    }
    if !ended {
        return ManifestReply::NeedMore;
    }
    if pick == NO_VERSION {
        return ManifestReply::NoCommonVersion;
    }
    let version = Version::new(pick[3], pick[2]);
    if pick[..2] != [0, 0] || !SUPPORTED.contains(&version) {
        return ManifestReply::Invalid(format!(
            "the client picked {:02X} {:02X} {:02X} {:02X}, which the server did not offer",
            pick[0], pick[1], pick[2], pick[3]
        ));
    }
    ManifestReply::Chosen {
        version,
        capabilities,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packstream::tests::XorShift;

    fn opening(proposals: [[u8; 4]; 4]) -> [u8; 20] {
        let mut o = [0u8; 20];
        o[..4].copy_from_slice(&MAGIC);
        for (i, p) in proposals.iter().enumerate() {
            o[4 + 4 * i..8 + 4 * i].copy_from_slice(p);
        }
        o
    }

    /// The opening the manifest-era drivers send, byte for byte:
    /// * neo4j-python-driver 6.x `Bolt.get_handshake()`;
    /// * neo4j-javascript-driver 6.x `newHandshakeBuffer()` (6.3.0, as tests/js installs)
    ///   (`bolt-connection/src/bolt/handshake.js`, `version(255, 1)` first);
    /// * neo4j/java-driver 5.27–5.28 `bolt-api-netty/src/main/java/org/neo4j/driver/internal/
    ///   bolt/basicimpl/impl/async/connection/BoltProtocolUtil.java` (`HANDSHAKE_BUF`, 5.28.1,
    ///   commit dc7d42f1) and the Java driver 6.x's Bolt layer, neo4j/bolt-connection-java
    ///   `neo4j-bolt-connection-netty/src/main/java/org/neo4j/bolt/connection/netty/impl/async/
    ///   connection/BoltProtocolUtil.java` (the same constant in every tag, 6.0.0 to 11.0.2):
    ///   `0x000001FF`, `V58.toIntRange(V5)`, `V44.toIntRange(V42)`, `V3.toInt()`.
    const MANIFEST_ERA: [u8; 20] = [
        0x60, 0x60, 0xB0, 0x17, 0x00, 0x00, 0x01, 0xFF, 0x00, 0x08, 0x08, 0x05, 0x00, 0x02, 0x04,
        0x04, 0x00, 0x00, 0x00, 0x03,
    ];

    #[test]
    fn manifest_era_drivers_are_answered_with_the_manifest() {
        assert_eq!(negotiate(&MANIFEST_ERA), Handshake::Manifest);
        assert_eq!(
            manifest_v1_offer(),
            [
                0x00, 0x00, 0x01, 0xFF, // manifest v1
                0x02, // two ranges
                0x00, 0x04, 0x04, 0x05, // 5.4 down to 5.0
                0x00, 0x04, 0x04, 0x04, // 4.4 down to 4.0
                0x00, // no capabilities
            ]
        );
        // bolt-connection-java `ManifestHandlerV1.findSupportedBoltProtocol()`: the newest
        // version it knows inside an offered range, as `version().toInt()`, then
        // `writeVarLong(capabilities & preferredCapabilitiesMask)`.
        assert_eq!(
            manifest_reply(&[0x00, 0x00, 0x04, 0x05, 0x00]),
            ManifestReply::Chosen {
                version: Version::new(5, 4),
                capabilities: 0
            }
        );
        // Its "no supported version" answer: `write(0)`, `write((byte) 0)`.
        assert_eq!(
            manifest_reply(&[0, 0, 0, 0, 0]),
            ManifestReply::NoCommonVersion
        );
    }

    #[test]
    fn manifest_replies_are_read_incrementally_and_checked() {
        let full = [0x00, 0x00, 0x02, 0x04, 0x85, 0x01];
        for n in 0..full.len() {
            assert_eq!(manifest_reply(&full[..n]), ManifestReply::NeedMore, "{n}");
        }
        assert_eq!(
            manifest_reply(&full),
            ManifestReply::Chosen {
                version: Version::new(4, 2),
                capabilities: 0x85
            }
        );
        // A version the server did not offer, a reserved byte set, an endless varint.
        for bad in [
            vec![0, 0, 8, 5, 0],
            vec![0, 0, 0, 3, 0],
            vec![0, 1, 4, 5, 0],
            vec![
                0, 0, 4, 5, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01,
            ],
            vec![
                0, 0, 4, 5, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02,
            ],
        ] {
            assert!(
                matches!(manifest_reply(&bad), ManifestReply::Invalid(_)),
                "{bad:02X?}"
            );
        }
        // 64 bits exactly is fine.
        let mut max = vec![0, 0, 0, 5];
        put_varint(u64::MAX, &mut max);
        assert_eq!(max.len(), 4 + MAX_VARINT_BYTES);
        assert_eq!(
            manifest_reply(&max),
            ManifestReply::Chosen {
                version: Version::new(5, 0),
                capabilities: u64::MAX
            }
        );
    }

    #[test]
    fn java_driver_5_26_gets_5_4() {
        // neo4j-java-driver 5.26.0 `driver/src/main/java/org/neo4j/driver/internal/async/
        // connection/BoltProtocolUtil.java` `HANDSHAKE_BUF`: V57.toIntRange(V5),
        // V44.toIntRange(V42), V41.toInt(), V3.toInt() (5.23.0: V56 at the top; 5.7.0 and
        // 5.8.0: V52).
        let o = opening([[0, 7, 7, 5], [0, 2, 4, 4], [0, 0, 1, 4], [0, 0, 0, 3]]);
        assert_eq!(negotiate(&o), Handshake::Agreed(Version::new(5, 4)));
        assert_eq!(Version::new(5, 4).response(), [0, 0, 4, 5]);
        let o = opening([[0, 2, 2, 5], [0, 2, 4, 4], [0, 0, 1, 4], [0, 0, 0, 3]]);
        assert_eq!(negotiate(&o), Handshake::Agreed(Version::new(5, 2)));
    }

    #[test]
    fn java_driver_5_0_and_4_4_get_their_newest_version() {
        // neo4j-java-driver 5.0.0: V5.toInt(), V44.toIntRange(V42), V41, V3.
        let o = opening([[0, 0, 0, 5], [0, 2, 4, 4], [0, 0, 1, 4], [0, 0, 0, 3]]);
        assert_eq!(negotiate(&o), Handshake::Agreed(Version::new(5, 0)));
        // neo4j-java-driver 4.4.0: V44.toIntRange(V42), V41, V4, V3.
        let o = opening([[0, 2, 4, 4], [0, 0, 1, 4], [0, 0, 0, 4], [0, 0, 0, 3]]);
        assert_eq!(negotiate(&o), Handshake::Agreed(Version::new(4, 4)));
    }

    #[test]
    fn java_driver_4_2_era_gets_4_2() {
        // neo4j-java-driver 4.2 `BoltProtocolUtil.HANDSHAKE_BUF`: 4.2, 4.1, 4.0, 3.0 as singles.
        let o = opening([[0, 0, 2, 4], [0, 0, 1, 4], [0, 0, 0, 4], [0, 0, 0, 3]]);
        assert_eq!(negotiate(&o), Handshake::Agreed(Version::new(4, 2)));
    }

    #[test]
    fn older_5x_drivers_get_their_newest_common_version() {
        // The shape 5.x drivers (Python/JavaScript/Java before the manifest) sent: a 5.x range,
        // a 4.4..4.2 range, then single older versions. Not checked against each driver's source.
        let o = opening([[0, 4, 4, 5], [0, 2, 4, 4], [0, 0, 1, 4], [0, 0, 0, 3]]);
        assert_eq!(negotiate(&o), Handshake::Agreed(Version::new(5, 4)));
        let o = opening([[0, 0, 0, 5], [0, 2, 4, 4], [0, 0, 1, 4], [0, 0, 0, 3]]);
        assert_eq!(negotiate(&o), Handshake::Agreed(Version::new(5, 0)));
    }

    #[test]
    fn a_4x_driver_gets_4_4_and_single_versions_match_exactly() {
        let o = opening([[0, 0, 4, 4], [0, 0, 3, 4], [0, 0, 0, 4], [0, 0, 0, 3]]);
        assert_eq!(negotiate(&o), Handshake::Agreed(Version::new(4, 4)));
        let o = opening([[0, 0, 1, 4], [0; 4], [0; 4], [0; 4]]);
        assert_eq!(negotiate(&o), Handshake::Agreed(Version::new(4, 1)));
    }

    #[test]
    fn proposals_are_compared_not_taken_in_order() {
        // A client listing an older version first still gets the newest common one.
        let o = opening([[0, 0, 0, 4], [0, 0, 2, 5], [0; 4], [0; 4]]);
        assert_eq!(negotiate(&o), Handshake::Agreed(Version::new(5, 2)));
    }

    #[test]
    fn unsupported_versions_and_foreign_protocols_are_told_apart() {
        let o = opening([[0, 0, 0, 3], [0, 0, 0, 2], [0, 0, 0, 1], [0; 4]]);
        assert_eq!(negotiate(&o), Handshake::NoCommonVersion);
        // A manifest-only opening is answered with the manifest (the pick comes later).
        let o = opening([MANIFEST_V1, [0; 4], [0; 4], [0; 4]]);
        assert_eq!(negotiate(&o), Handshake::Manifest);
        let mut http = [0u8; 20];
        http.copy_from_slice(b"GET /status HTTP/1.1");
        assert_eq!(negotiate(&http), Handshake::NotBolt);
        assert!(may_be_bolt(&[0x60, 0x60]));
        assert!(!may_be_bolt(b"POST"));
        assert!(may_be_bolt(&[]));
    }

    #[test]
    fn huge_ranges_do_not_underflow() {
        let o = opening([[0, 255, 3, 5], [0; 4], [0; 4], [0; 4]]);
        assert_eq!(negotiate(&o), Handshake::Agreed(Version::new(5, 3)));
    }

    #[test]
    fn random_openings_never_panic() {
        let mut rng = XorShift(0xD1B5_4A32_D192_ED03);
        for _ in 0..20_000 {
            let mut o = [0u8; 20];
            for b in o.iter_mut() {
                *b = rng.next() as u8;
            }
            // Half the time keep the magic so the proposal loop is exercised.
            if rng.next().is_multiple_of(2) {
                o[..4].copy_from_slice(&MAGIC);
            }
            let _ = negotiate(&o);
            let _ = may_be_bolt(&o[..(rng.next() % 21) as usize]);
        }
    }
}
