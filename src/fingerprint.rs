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
    let mut out = [0u8; 16];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(value, salt, ITERATIONS, &mut out);
    format!("{PREFIX}{}", hex::encode(out))
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
    }
}
