//! PackStream decoding of arbitrary bytes, and re-encoding of whatever decodes: never a
//! panic, and a decoded value encodes back to bytes that decode to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nereid_bolt::packstream;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = packstream::decode(data) else {
        return;
    };
    let mut out = Vec::new();
    if packstream::encode(&value, &mut out).is_ok() {
        // Floats: NaN is not equal to itself, so compare the encodings instead.
        let again = packstream::decode(&out).expect("our own encoding decodes");
        let mut twice = Vec::new();
        packstream::encode(&again, &mut twice).expect("encodes again");
        assert_eq!(out, twice);
    }
});
