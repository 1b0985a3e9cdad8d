//! The Bolt handshake: the client's 20 opening bytes (magic `60 60 B0 17` and four 4-byte version
//! proposals) and the server's 4-byte answer.
//!
//! A proposal is `[0, range, minor, major]`: it offers `major.minor` down to
//! `major.(minor - range)`. The server answers with the newest version it supports among all
//! proposals (`[0, 0, minor, major]`), or `00 00 00 00` and closes the connection.
//!
//! Versions served: 5.0–5.4 and 4.4–4.0 ([`SUPPORTED`]). 5.4 is the ceiling because it is the
//! newest version whose message set this crate decodes completely (LOGON/LOGOFF from 5.1,
//! TELEMETRY from 5.4); 5.5+ only change semantics we have not implemented yet.
//!
//! Manifest negotiation (proposal `00 00 01 FF`, Bolt 5.7+) is recognised and skipped: every
//! current driver that sends it also sends ordinary ranges covering 5.x, so answering one of
//! those is valid and avoids a second round trip. Serving the manifest itself is not done.

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
    let mut best: Option<Version> = None;
    for p in opening[4..].chunks_exact(4) {
        if p == MANIFEST_V1 {
            continue;
        }
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

    #[test]
    fn python_driver_6_gets_5_4() {
        // neo4j-python-driver 6.x `Bolt.get_handshake()`: manifest v1, 5.8..5.0, 4.4..4.2, 3.0.
        let o = opening([MANIFEST_V1, [0, 8, 8, 5], [0, 2, 4, 4], [0, 0, 0, 3]]);
        assert_eq!(negotiate(&o), Handshake::Agreed(Version::new(5, 4)));
        assert_eq!(Version::new(5, 4).response(), [0, 0, 4, 5]);
    }

    #[test]
    fn javascript_driver_gets_5_4() {
        // neo4j-javascript-driver `newHandshakeBuffer()` (bolt-connection/src/bolt/handshake.js):
        // version(255, 1) = manifest v1, [5.8, 5.0], [4.4, 4.2], 3.0 -- the same bytes as Python 6.x.
        let o = opening([MANIFEST_V1, [0, 8, 8, 5], [0, 2, 4, 4], [0, 0, 0, 3]]);
        assert_eq!(negotiate(&o), Handshake::Agreed(Version::new(5, 4)));
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
        let o = opening([MANIFEST_V1, [0; 4], [0; 4], [0; 4]]);
        assert_eq!(negotiate(&o), Handshake::NoCommonVersion);
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
