#![no_main]
//! The keyword table loader: `KeywordSet::from_bytes` must refuse any table that its walk,
//! which reads transitions without bounds checks, could not rely on. Inputs patch bytes of a
//! valid table (so the fuzzer reaches the deep checks) and are also read as a table whole.

use keywarden::engine::keywords::KeywordSet;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn table() -> &'static [u8] {
    static T: OnceLock<Vec<u8>> = OnceLock::new();
    T.get_or_init(|| {
        KeywordSet::new(["password", "token", "AKIA", "ghp_", "-----BEGIN", "secret_key"])
            .expect("keywords")
            .to_bytes()
    })
}

fuzz_target!(|data: &[u8]| {
    let (patches, hay) = data.split_at(data.len().min(24));
    let mut t = table().to_vec();
    for p in patches.chunks_exact(3) {
        let at = usize::from(u16::from_le_bytes([p[0], p[1]])) % t.len();
        t[at] ^= p[2];
    }
    if let Some(k) = KeywordSet::from_bytes(&t) {
        k.for_each_hit(hay, |_| {});
    }
    if let Some(k) = KeywordSet::from_bytes(data) {
        k.for_each_hit(b"a password, a token and AKIA in one -----BEGIN line", |_| {});
    }
});
