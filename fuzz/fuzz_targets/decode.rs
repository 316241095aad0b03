#![no_main]
//! Decoded layers stay bounded and inside the input for any bytes.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for layer in keywarden::pipeline::decode::layers(data, 3) {
        assert!(layer.start <= layer.end && layer.end <= data.len());
    }
});
