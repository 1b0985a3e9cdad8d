//! The handshake (the opening, and the pick after a manifest), then a Bolt byte stream:
//! chunk reassembly in input-chosen splits, then message decoding of every whole message.
//! Must never panic; messages stay within the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nereid_bolt::chunk::ChunkReader;
use nereid_bolt::handshake;
use nereid_bolt::message::Request;

const MAX_MESSAGE: usize = 1 << 16;

fuzz_target!(|data: &[u8]| {
    if data.len() >= 20 {
        let mut opening = [0u8; 20];
        opening.copy_from_slice(&data[..20]);
        if handshake::negotiate(&opening) == handshake::Handshake::Manifest {
            // The client's pick after the manifest, from the bytes behind the opening.
            let end = data.len().min(20 + 4 + handshake::MAX_VARINT_BYTES + 1);
            let _ = handshake::manifest_reply(&data[20..end]);
        }
    }
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let step = usize::from(split % 32) + 1;
    let mut reader = ChunkReader::new(MAX_MESSAGE);
    for piece in rest.chunks(step) {
        reader.push(piece);
        loop {
            match reader.next_message() {
                Ok(Some(message)) => {
                    assert!(message.len() <= MAX_MESSAGE);
                    let _ = Request::decode(&message);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});
