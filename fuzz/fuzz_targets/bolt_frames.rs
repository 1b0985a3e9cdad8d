//! A Bolt byte stream after the handshake: chunk reassembly in input-chosen splits, then
//! message decoding of every whole message. Must never panic; messages stay within the limit.
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
        let _ = handshake::negotiate(&opening);
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
