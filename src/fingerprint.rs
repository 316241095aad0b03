//! Value fingerprints: one stable identifier per secret value, wherever it is found.
//!
//! `kw1:` + hex(PBKDF2-HMAC-SHA256(value, salt, 1000 iterations, 16 bytes)), with the salt
//! `keywarden-fp-v1` or, when `KEYWARDEN_FINGERPRINT_KEY` is set, `keywarden-fp-v1:` + that key.
//! The iteration count slows offline guessing of weak values; an organisation-wide key makes
//! guessing impossible without it. Reproducible with Python's standard library:
//! `hashlib.pbkdf2_hmac("sha256", value, b"keywarden-fp-v1", 1000, 16).hex()`.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

pub const PREFIX: &str = "kw1:";
pub const ITERATIONS: u32 = 1_000;
const SALT_BASE: &str = "keywarden-fp-v1";
pub const KEY_ENV: &str = "KEYWARDEN_FINGERPRINT_KEY";

fn salt() -> &'static [u8] {
    static SALT: OnceLock<Vec<u8>> = OnceLock::new();
    SALT.get_or_init(|| match std::env::var(KEY_ENV) {
        Ok(k) if !k.is_empty() => format!("{SALT_BASE}:{k}").into_bytes(),
        _ => SALT_BASE.as_bytes().to_vec(),
    })
}

/// Fingerprint with an explicit salt key (None = the public default salt).
pub fn fingerprint_with_key(value: &[u8], key: Option<&str>) -> String {
    let salt = match key {
        Some(k) if !k.is_empty() => format!("{SALT_BASE}:{k}").into_bytes(),
        _ => SALT_BASE.as_bytes().to_vec(),
    };
    compute(value, &salt)
}

fn compute(value: &[u8], salt: &[u8]) -> String {
    let t = pbkdf2_block1(value, salt, ITERATIONS);
    format!("{PREFIX}{}", hex::encode(&t[..16]))
}

/// SHA-256's initial state.
const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The first 32-byte block of PBKDF2-HMAC-SHA256. Each iteration hashes one 32-byte value
/// under the key's precomputed inner and outer states: two compressions of one padded block,
/// with nothing allocated or finalised per round (the generic HMAC path spent a third of its
/// time outside the compression function).
fn pbkdf2_block1(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    use sha2::Digest;
    use sha2::block_api::compress256;
    let mut key = [0u8; 64];
    if password.len() > 64 {
        key[..32].copy_from_slice(&sha2::Sha256::digest(password));
    } else {
        key[..password.len()].copy_from_slice(password);
    }
    let (mut ipad, mut opad) = ([0u8; 64], [0u8; 64]);
    for i in 0..64 {
        ipad[i] = key[i] ^ 0x36;
        opad[i] = key[i] ^ 0x5c;
    }
    let (mut inner, mut outer) = (IV, IV);
    compress256(&mut inner, &[ipad]);
    compress256(&mut outer, &[opad]);
    // U1 = HMAC(salt || INT(1)), of any salt length: the inner hash over whole blocks.
    let mut msg = salt.to_vec();
    msg.extend_from_slice(&1u32.to_be_bytes());
    let mut state = inner;
    let total_bits = ((64 + msg.len()) as u64) * 8;
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&total_bits.to_be_bytes());
    let blocks: Vec<[u8; 64]> = msg
        .chunks_exact(64)
        .map(|c| c.try_into().unwrap_or([0; 64]))
        .collect();
    compress256(&mut state, &blocks);
    // One block holds a 32-byte value after a 64-byte key block: 96 bytes = 768 bits.
    let mut block = [0u8; 64];
    block[32] = 0x80;
    block[56..].copy_from_slice(&768u64.to_be_bytes());
    let put = |block: &mut [u8; 64], s: &[u32; 8]| {
        for (i, w) in s.iter().enumerate() {
            block[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
        }
    };
    put(&mut block, &state);
    let mut s = outer;
    compress256(&mut s, &[block]);
    let mut u = s;
    let mut t = u;
    for _ in 1..iterations {
        put(&mut block, &u);
        let mut s = inner;
        compress256(&mut s, &[block]);
        put(&mut block, &s);
        let mut s = outer;
        compress256(&mut s, &[block]);
        u = s;
        for (a, b) in t.iter_mut().zip(u.iter()) {
            *a ^= b;
        }
    }
    let mut out = [0u8; 32];
    for (i, w) in t.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// Fingerprint of a secret value, memoised: the same value found many times costs one hash.
pub fn fingerprint(value: &[u8]) -> String {
    static CACHE: OnceLock<Mutex<HashMap<Vec<u8>, String>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(fp) = cache.lock().map(|c| c.get(value).cloned()).ok().flatten() {
        return fp;
    }
    let fp = compute(value, salt());
    if let Ok(mut c) = cache.lock()
        && c.len() < 100_000
    {
        c.insert(value.to_vec(), fp.clone());
    }
    fp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector() {
        // Computed independently with Python's hashlib.pbkdf2_hmac.
        assert_eq!(
            fingerprint_with_key(b"hunter2", None),
            "kw1:e3733f12a7a80a03a53cee9d9aee048e"
        );
        assert_eq!(
            fingerprint_with_key(b"hunter2", None),
            fingerprint_with_key(b"hunter2", Some(""))
        );
        assert_ne!(
            fingerprint_with_key(b"hunter2", None),
            fingerprint_with_key(b"hunter3", None)
        );
        assert_ne!(
            fingerprint_with_key(b"hunter2", None),
            fingerprint_with_key(b"hunter2", Some("org"))
        );
        assert!(fingerprint_with_key(b"x", None).starts_with(PREFIX));
        assert_eq!(
            fingerprint_with_key(b"hunter2", Some("org-key")),
            "kw1:c013a5e89f2c0a2f7c1892e859ef2c4f"
        );
    }

    #[test]
    fn vectors_around_the_hmac_block_size() {
        // Python: hashlib.pbkdf2_hmac("sha256", v, b"keywarden-fp-v1", 1000, 16).hex()
        let long = [b"-----BEGIN RSA PRIVATE KEY-----".as_slice(), &[b'Q'; 300]].concat();
        for (v, want) in [
            (b"".to_vec(), "49ad053679c2b980419834c24738746c"),
            (vec![b'a'; 64], "14dbe2a267b5ac0f546b06b8cc4c3267"),
            (vec![b'b'; 65], "4fa660c1445ad6e8fdaf45c4e57553dd"),
            (long, "d8a59e0c3305835ab7a90c9c3a5e68c2"),
        ] {
            assert_eq!(
                fingerprint_with_key(&v, None),
                format!("{PREFIX}{want}"),
                "len {}",
                v.len()
            );
        }
    }
}
