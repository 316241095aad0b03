//! Value fingerprints: one stable identifier per secret value, wherever it is found.
//!
//! `kw2:` + 32 hex digits (16 bytes). How the 16 bytes are made depends on the value, because
//! what a fingerprint must resist is guessing, and only some values can be guessed:
//!
//! - **Stretched**, for every value that a person could have chosen or that is short:
//!   PBKDF2-HMAC-SHA256(value, salt `keywarden-fp-v1`, 1,000 iterations). The iterations make
//!   each guess of a weak value cost 2,000 hash compressions.
//! - **Keyed**, for machine-made values of 32 bytes or more ([`keyed`]: many changes between
//!   letter cases, digits and symbols, many distinct bytes, few runs of letters): one
//!   HMAC-SHA256(key `keywarden-fp-v2`, value). Such a value has far more entropy than any
//!   number of iterations adds, so stretching it only cost time: on a tree dense in vendor
//!   tokens it was most of the scan.
//!
//! When `KEYWARDEN_FINGERPRINT_KEY` is set, both salts get `:` + that key appended: an
//! organisation-wide key is what makes weak values unguessable. Reproducible with Python's
//! standard library: `hashlib.pbkdf2_hmac("sha256", v, b"keywarden-fp-v1", 1000, 16).hex()` or
//! `hmac.new(b"keywarden-fp-v2", v, "sha256").hexdigest()[:32]`.
//!
//! `kw1:` fingerprints (written before `kw2:`, still found in baselines, ignore files and
//! inventory tags) are the stretched form for every value. A stretched value's `kw1:` and `kw2:`
//! share their hex digits, so only keyed values need their `kw1:` form computed ([`legacy`]) to
//! match an old entry; [`canonical`] puts both spellings of a stretched fingerprint in one form.
#![allow(unsafe_code)] // uses SIMD intrinsics for batched hashing; every block has a SAFETY note

pub mod normalize;

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// The prefix of every fingerprint this version writes.
pub const PREFIX: &str = "kw2:";
/// The prefix of fingerprints written before `kw2:` (the stretched form for every value).
pub const LEGACY_PREFIX: &str = "kw1:";
/// PBKDF2 iterations of the stretched form.
pub const ITERATIONS: u32 = 1_000;
const SALT_BASE: &str = "keywarden-fp-v1";
const KEY_BASE: &str = "keywarden-fp-v2";
/// The environment variable holding the organisation's fingerprint key.
pub const KEY_ENV: &str = "KEYWARDEN_FINGERPRINT_KEY";
/// Values shorter than this are always stretched.
const KEYED_MIN_LEN: usize = 32;

/// The salts of both forms for an organisation key (None or empty = the public defaults).
struct Salts {
    stretched: Vec<u8>,
    keyed: Vec<u8>,
}

impl Salts {
    fn new(key: Option<&str>) -> Salts {
        match key {
            Some(k) if !k.is_empty() => Salts {
                stretched: format!("{SALT_BASE}:{k}").into_bytes(),
                keyed: format!("{KEY_BASE}:{k}").into_bytes(),
            },
            _ => Salts {
                stretched: SALT_BASE.as_bytes().to_vec(),
                keyed: KEY_BASE.as_bytes().to_vec(),
            },
        }
    }
}

fn salts() -> &'static Salts {
    static SALTS: OnceLock<Salts> = OnceLock::new();
    SALTS.get_or_init(|| Salts::new(std::env::var(KEY_ENV).ok().as_deref()))
}

/// Whether a value gets the keyed form: at least 32 bytes that look machine-made. A person's
/// passphrase changes character class rarely, repeats few distinct bytes, or is made of words
/// (runs of five or more letters of one case); a random token over a mixed alphabet does the
/// opposite. A random token that fails the test (an upper-case base32 key, a long decimal
/// number) is only stretched needlessly; the test must never pass a guessable value.
pub fn keyed(value: &[u8]) -> bool {
    if value.len() < KEYED_MIN_LEN {
        return false;
    }
    #[derive(PartialEq, Clone, Copy)]
    enum Class {
        Lower,
        Upper,
        Digit,
        Other,
    }
    let class = |b: u8| match b {
        b'a'..=b'z' => Class::Lower,
        b'A'..=b'Z' => Class::Upper,
        b'0'..=b'9' => Class::Digit,
        _ => Class::Other,
    };
    let mut seen = [false; 256];
    let mut distinct = 0;
    let mut changes = 0;
    let mut in_word_runs = 0;
    let mut run = 0;
    let mut prev = class(value[0]);
    for (i, &b) in value.iter().enumerate() {
        if !seen[b as usize] {
            seen[b as usize] = true;
            distinct += 1;
        }
        let c = class(b);
        if i > 0 && c != prev {
            changes += 1;
        }
        if c == prev && matches!(c, Class::Lower | Class::Upper) && i > 0 {
            run += 1;
        } else {
            if run >= 5 {
                in_word_runs += run;
            }
            run = usize::from(matches!(c, Class::Lower | Class::Upper));
        }
        prev = c;
    }
    if run >= 5 {
        in_word_runs += run;
    }
    let n = value.len();
    distinct >= 16 && changes * 10 >= (n - 1) * 3 && in_word_runs * 4 <= n
}

/// Fingerprint with an explicit organisation key (None = the public default).
pub fn fingerprint_with_key(value: &[u8], key: Option<&str>) -> String {
    compute(value, &Salts::new(key))
}

/// The `kw1:` fingerprint of a value with an explicit organisation key, to match entries and
/// tags written before `kw2:`.
pub fn legacy_with_key(value: &[u8], key: Option<&str>) -> String {
    let salts = Salts::new(key);
    hex16(
        LEGACY_PREFIX,
        &pbkdf2_block1(value, &salts.stretched, ITERATIONS),
    )
}

fn compute(value: &[u8], salts: &Salts) -> String {
    if keyed(value) {
        hex16(PREFIX, &hmac(value, &salts.keyed))
    } else {
        hex16(PREFIX, &pbkdf2_block1(value, &salts.stretched, ITERATIONS))
    }
}

/// One HMAC-SHA256 of `value` under `key` (RFC 2104).
fn hmac(value: &[u8], key: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |x: u8| block.map(|b| b ^ x);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(value)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// A prefix and the first 16 bytes of a digest in hex.
fn hex16(prefix: &str, t: &[u8; 32]) -> String {
    format!("{prefix}{}", hex::encode(&t[..16]))
}

/// One spelling per fingerprint, for comparing: a `kw1:` fingerprint is spelt as the `kw2:`
/// fingerprint of the same value would be if that value is stretched (the hex digits agree);
/// anything else is returned as it is.
pub fn canonical(fp: &str) -> std::borrow::Cow<'_, str> {
    match fp.strip_prefix(LEGACY_PREFIX) {
        Some(hex) => format!("{PREFIX}{hex}").into(),
        None => fp.into(),
    }
}

/// The spelling that identities across runs are hashed from (SARIF partial fingerprints,
/// GitLab vulnerability ids): `kw2:` is spelt `kw1:`.
/// A stretched value's hex digits did not change with `kw2:`, so its alerts keep the identity
/// they had; only keyed values, whose digits did change, are tracked afresh once.
pub fn tracking_key(fp: &str) -> std::borrow::Cow<'_, str> {
    match fp.strip_prefix(PREFIX) {
        Some(hex) => format!("{LEGACY_PREFIX}{hex}").into(),
        None => fp.into(),
    }
}

/// Whether a string is a fingerprint this version reads (`kw2:` or `kw1:` and 32 hex digits).
pub fn is_fingerprint(s: &str) -> bool {
    let hex = s
        .strip_prefix(PREFIX)
        .or_else(|| s.strip_prefix(LEGACY_PREFIX));
    hex.is_some_and(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()))
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

/// SHA-256's round constants.
const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// The first 32-byte block of PBKDF2-HMAC-SHA256 for one password.
fn pbkdf2_block1(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    pbkdf2_lanes::<1>([password], salt, iterations)[0]
}

/// The key's precomputed HMAC states (inner, outer) and U1 = HMAC(salt || INT(1)).
fn hmac_start(password: &[u8], salt: &[u8]) -> ([u32; 8], [u32; 8], [u32; 8]) {
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
    // The inner hash of salt || INT(1), of any salt length, over whole blocks.
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
    let u1 = digest_block(&outer, &state);
    (inner, outer, u1)
}

/// One compression of a 32-byte value after a 64-byte key block (96 bytes = 768 bits): a
/// round of PBKDF2 is two of these.
fn digest_block(key_state: &[u32; 8], value: &[u32; 8]) -> [u32; 8] {
    let mut block = [0u8; 64];
    for (i, w) in value.iter().enumerate() {
        block[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
    }
    block[32] = 0x80;
    block[56..].copy_from_slice(&768u64.to_be_bytes());
    let mut s = *key_state;
    sha2::block_api::compress256(&mut s, &[block]);
    s
}

/// PBKDF2's first block for N passwords at once. A round depends on the one before, so one
/// chain leaves the SHA unit waiting on each instruction's latency; with the SHA extensions,
/// N chains run interleaved in registers (a fingerprint took ~120 µs alone).
fn pbkdf2_lanes<const N: usize>(
    passwords: [&[u8]; N],
    salt: &[u8],
    iterations: u32,
) -> [[u8; 32]; N] {
    let starts = passwords.map(|p| hmac_start(p, salt));
    let inner = starts.map(|s| s.0);
    let outer = starts.map(|s| s.1);
    let u1 = starts.map(|s| s.2);
    #[cfg(target_arch = "x86_64")]
    let t = if shani::available() {
        // SAFETY: the CPU has the features `iterate` is compiled for.
        unsafe { shani::iterate(&inner, &outer, u1, iterations) }
    } else {
        iterate(&inner, &outer, u1, iterations)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let t = iterate(&inner, &outer, u1, iterations);
    t.map(|t| digest_bytes(&t))
}

/// A SHA-256 state as the digest's bytes.
fn digest_bytes(t: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, w) in t.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// Rounds 2..=iterations, XORed into U1 (portable).
fn iterate<const N: usize>(
    inner: &[[u32; 8]; N],
    outer: &[[u32; 8]; N],
    u1: [[u32; 8]; N],
    iterations: u32,
) -> [[u32; 8]; N] {
    let mut u = u1;
    let mut t = u1;
    for _ in 1..iterations {
        for j in 0..N {
            u[j] = digest_block(&outer[j], &digest_block(&inner[j], &u[j]));
            for (a, b) in t[j].iter_mut().zip(u[j].iter()) {
                *a ^= b;
            }
        }
    }
    t
}

/// PBKDF2's rounds on the x86 SHA extensions. A round's message is the previous digest
/// plus constant padding, and a digest leaves the compression in the word order the next
/// message needs, so the whole loop stays in registers: no bytes, no byte swaps.
#[cfg(target_arch = "x86_64")]
mod shani {
    use std::arch::x86_64::*;

    pub fn available() -> bool {
        use std::sync::OnceLock;
        static HAS: OnceLock<bool> = OnceLock::new();
        *HAS.get_or_init(|| {
            is_x86_feature_detected!("sha")
                && is_x86_feature_detected!("sse4.1")
                && is_x86_feature_detected!("ssse3")
        })
    }

    use super::K;

    /// A state as the SHA instructions hold it: (ABEF, CDGH).
    #[derive(Clone, Copy)]
    struct Packed(__m128i, __m128i);

    /// A digest as two message words groups: (W0..W3, W4..W7) = (a b c d, e f g h).
    #[derive(Clone, Copy)]
    struct Digest(__m128i, __m128i);

    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn load(s: &[u32; 8]) -> Digest {
        // SAFETY: two unaligned 16-byte loads inside the 32-byte array.
        unsafe {
            let p = s.as_ptr().cast::<__m128i>();
            Digest(_mm_loadu_si128(p), _mm_loadu_si128(p.add(1)))
        }
    }

    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn store(d: Digest) -> [u32; 8] {
        let mut s = [0u32; 8];
        // SAFETY: two unaligned 16-byte stores inside the 32-byte array.
        unsafe {
            let p = s.as_mut_ptr().cast::<__m128i>();
            _mm_storeu_si128(p, d.0);
            _mm_storeu_si128(p.add(1), d.1);
        }
        s
    }

    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn pack(d: Digest) -> Packed {
        let cdab = _mm_shuffle_epi32(d.0, 0xB1);
        let efgh = _mm_shuffle_epi32(d.1, 0x1B);
        Packed(
            _mm_alignr_epi8(cdab, efgh, 8),
            _mm_blend_epi16(efgh, cdab, 0xF0),
        )
    }

    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn unpack(p: Packed) -> Digest {
        let feba = _mm_shuffle_epi32(p.0, 0x1B);
        let dchg = _mm_shuffle_epi32(p.1, 0xB1);
        Digest(
            _mm_blend_epi16(feba, dchg, 0xF0),
            _mm_alignr_epi8(dchg, feba, 8),
        )
    }

    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn k4(i: usize) -> __m128i {
        _mm_set_epi32(
            K[4 * i + 3] as i32,
            K[4 * i + 2] as i32,
            K[4 * i + 1] as i32,
            K[4 * i] as i32,
        )
    }

    /// The next four message words from the previous sixteen.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn schedule(w0: __m128i, w1: __m128i, w2: __m128i, w3: __m128i) -> __m128i {
        let t = _mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8(w3, w2, 4));
        _mm_sha256msg2_epu32(t, w3)
    }

    /// Each key state compresses its lane's digest (with the 768-bit padding) into a new
    /// digest. Every step runs over all lanes before the next, so their latencies overlap.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    fn compress<const N: usize>(keys: &[Packed; N], msg: &[Digest; N]) -> [Digest; N] {
        let mut st = *keys;
        let mut w: [[__m128i; 4]; N] = msg.map(|m| {
            [
                m.0,
                m.1,
                _mm_set_epi32(0, 0, 0, 0x8000_0000u32 as i32),
                _mm_set_epi32(768, 0, 0, 0),
            ]
        });
        for i in 0..16 {
            let k = k4(i);
            for j in 0..N {
                let wi = if i < 4 {
                    w[j][i]
                } else {
                    let [w0, w1, w2, w3] = w[j];
                    let n = schedule(w0, w1, w2, w3);
                    w[j] = [w1, w2, w3, n];
                    n
                };
                let m = _mm_add_epi32(wi, k);
                st[j].1 = _mm_sha256rnds2_epu32(st[j].1, st[j].0, m);
                st[j].0 = _mm_sha256rnds2_epu32(st[j].0, st[j].1, _mm_shuffle_epi32(m, 0x0E));
            }
        }
        let mut out = [Digest(_mm_setzero_si128(), _mm_setzero_si128()); N];
        for j in 0..N {
            out[j] = unpack(Packed(
                _mm_add_epi32(st[j].0, keys[j].0),
                _mm_add_epi32(st[j].1, keys[j].1),
            ));
        }
        out
    }

    /// `super::iterate` on the SHA extensions.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    pub fn iterate<const N: usize>(
        inner: &[[u32; 8]; N],
        outer: &[[u32; 8]; N],
        u1: [[u32; 8]; N],
        iterations: u32,
    ) -> [[u32; 8]; N] {
        let inner = inner.map(|s| pack(load(&s)));
        let outer = outer.map(|s| pack(load(&s)));
        let mut u = u1.map(|s| load(&s));
        let mut t = u;
        for _ in 1..iterations {
            u = compress(&outer, &compress(&inner, &u));
            for j in 0..N {
                t[j] = Digest(_mm_xor_si128(t[j].0, u[j].0), _mm_xor_si128(t[j].1, u[j].1));
            }
        }
        t.map(|d| store(d))
    }
}

/// PBKDF2's rounds for 16 values at once, one per 32-bit lane of AVX-512 registers: where
/// the SHA extensions hash one block at a time per unit, this runs SHA-256's plain
/// arithmetic on 16 blocks per instruction (~2x the SHA extensions' throughput, for a scan
/// with many findings).
#[cfg(target_arch = "x86_64")]
mod wide {
    use std::arch::x86_64::*;

    pub const LANES: usize = 16;

    pub fn available() -> bool {
        use std::sync::OnceLock;
        static HAS: OnceLock<bool> = OnceLock::new();
        *HAS.get_or_init(|| is_x86_feature_detected!("avx512f"))
    }

    type V = __m512i;

    /// Word i of every lane's state in register i.
    #[target_feature(enable = "avx512f")]
    fn transpose(s: &[[u32; 8]; LANES]) -> [V; 8] {
        let mut words = [[0u32; LANES]; 8];
        for (l, st) in s.iter().enumerate() {
            for (i, w) in st.iter().enumerate() {
                words[i][l] = *w;
            }
        }
        // SAFETY: each row is 64 bytes, one unaligned load.
        words.map(|row| unsafe { _mm512_loadu_si512(row.as_ptr().cast()) })
    }

    #[target_feature(enable = "avx512f")]
    fn untranspose(v: &[V; 8]) -> [[u32; 8]; LANES] {
        let mut out = [[0u32; 8]; LANES];
        for (i, r) in v.iter().enumerate() {
            let mut row = [0u32; LANES];
            // SAFETY: one unaligned 64-byte store into a 64-byte array.
            unsafe { _mm512_storeu_si512(row.as_mut_ptr().cast(), *r) };
            for (l, w) in row.iter().enumerate() {
                out[l][i] = *w;
            }
        }
        out
    }

    #[target_feature(enable = "avx512f")]
    fn add(a: V, b: V) -> V {
        _mm512_add_epi32(a, b)
    }

    #[target_feature(enable = "avx512f")]
    fn xor3(a: V, b: V, c: V) -> V {
        _mm512_ternarylogic_epi32::<0x96>(a, b, c)
    }

    /// Each lane's key state compresses its digest (with the 768-bit padding).
    #[target_feature(enable = "avx512f")]
    fn compress(key: &[V; 8], msg: &[V; 8]) -> [V; 8] {
        let mut w = [_mm512_setzero_si512(); 16];
        w[..8].copy_from_slice(msg);
        w[8] = _mm512_set1_epi32(0x8000_0000u32 as i32);
        w[15] = _mm512_set1_epi32(768);
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *key;
        for (i, &k) in super::K.iter().enumerate() {
            let wi = if i < 16 {
                w[i]
            } else {
                let x = w[(i + 1) & 15];
                let y = w[(i + 14) & 15];
                let s0 = xor3(
                    _mm512_ror_epi32::<7>(x),
                    _mm512_ror_epi32::<18>(x),
                    _mm512_srli_epi32::<3>(x),
                );
                let s1 = xor3(
                    _mm512_ror_epi32::<17>(y),
                    _mm512_ror_epi32::<19>(y),
                    _mm512_srli_epi32::<10>(y),
                );
                let n = add(add(w[i & 15], s0), add(w[(i + 9) & 15], s1));
                w[i & 15] = n;
                n
            };
            let big_s1 = xor3(
                _mm512_ror_epi32::<6>(e),
                _mm512_ror_epi32::<11>(e),
                _mm512_ror_epi32::<25>(e),
            );
            let ch = _mm512_ternarylogic_epi32::<0xCA>(e, f, g);
            let t1 = add(
                add(h, big_s1),
                add(ch, add(wi, _mm512_set1_epi32(k as i32))),
            );
            let big_s0 = xor3(
                _mm512_ror_epi32::<2>(a),
                _mm512_ror_epi32::<13>(a),
                _mm512_ror_epi32::<22>(a),
            );
            let maj = _mm512_ternarylogic_epi32::<0xE8>(a, b, c);
            h = g;
            g = f;
            f = e;
            e = add(d, t1);
            d = c;
            c = b;
            b = a;
            a = add(t1, add(big_s0, maj));
        }
        let s = [a, b, c, d, e, f, g, h];
        std::array::from_fn(|i| add(s[i], key[i]))
    }

    /// `super::iterate` for 16 lanes.
    #[target_feature(enable = "avx512f")]
    pub fn iterate(
        inner: &[[u32; 8]; LANES],
        outer: &[[u32; 8]; LANES],
        u1: [[u32; 8]; LANES],
        iterations: u32,
    ) -> [[u32; 8]; LANES] {
        let inner = transpose(inner);
        let outer = transpose(outer);
        let mut u = transpose(&u1);
        let mut t = u;
        for _ in 1..iterations {
            u = compress(&outer, &compress(&inner, &u));
            for (x, y) in t.iter_mut().zip(&u) {
                *x = _mm512_xor_si512(*x, *y);
            }
        }
        untranspose(&t)
    }
}

/// Fingerprint of a secret value, memoised: the same value found many times costs one hash.
pub fn fingerprint(value: &[u8]) -> String {
    fingerprints(&[value]).pop().unwrap_or_default()
}

/// How many values the SHA extensions hash together (see `pbkdf2_lanes`): with more than
/// two chains in flight they run out of registers and slow down.
pub const LANES: usize = 2;

/// How many values are best handed to `fingerprints` at once on this CPU.
pub fn batch() -> usize {
    #[cfg(target_arch = "x86_64")]
    if wide::available() {
        return wide::LANES;
    }
    LANES
}

/// Fewest values worth a 16-lane pass: below this, pairs on the SHA extensions are quicker.
const WIDE_MIN: usize = 9;

/// PBKDF2's first block for up to 16 values on AVX-512 (unused lanes repeat the first).
///
/// # Safety
/// The CPU must have AVX-512 (`wide::available()`).
#[cfg(target_arch = "x86_64")]
unsafe fn pbkdf2_wide(values: &[&[u8]], salt: &[u8], iterations: u32) -> Vec<[u8; 32]> {
    let n = values.len().min(wide::LANES);
    let starts: [_; wide::LANES] =
        std::array::from_fn(|i| hmac_start(values[if i < n { i } else { 0 }], salt));
    let inner = starts.map(|s| s.0);
    let outer = starts.map(|s| s.1);
    let u1 = starts.map(|s| s.2);
    // SAFETY: the caller has checked `wide::available()`.
    let t = unsafe { wide::iterate(&inner, &outer, u1, iterations) };
    t[..n].iter().map(digest_bytes).collect()
}

/// PBKDF2's first block for each value, in order: 16 at a time on AVX-512, else in pairs.
fn stretched(values: &[&[u8]], salt: &[u8]) -> Vec<[u8; 32]> {
    let mut out: Vec<[u8; 32]> = Vec::with_capacity(values.len());
    let mut rest: &[&[u8]] = values;
    #[cfg(target_arch = "x86_64")]
    if wide::available() {
        while rest.len() >= WIDE_MIN {
            let (chunk, r) = rest.split_at(rest.len().min(wide::LANES));
            // SAFETY: `wide::available()` was checked above.
            out.extend(unsafe { pbkdf2_wide(chunk, salt, ITERATIONS) });
            rest = r;
        }
    }
    for chunk in rest.chunks(LANES) {
        match *chunk {
            [a, b] => out.extend(pbkdf2_lanes([a, b], salt, ITERATIONS)),
            _ => out.extend(chunk.iter().map(|v| pbkdf2_block1(v, salt, ITERATIONS))),
        }
    }
    out
}

/// Fingerprints of several values, in order, memoised. Keyed values cost one HMAC each;
/// stretched values not seen before are hashed together (see [`stretched`]).
pub fn fingerprints(values: &[&[u8]]) -> Vec<String> {
    static CACHE: OnceLock<Mutex<HashMap<Vec<u8>, String>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut out: Vec<Option<String>> = match cache.lock() {
        Ok(c) => values.iter().map(|v| c.get(*v).cloned()).collect(),
        Err(_) => vec![None; values.len()],
    };
    let mut todo: Vec<&[u8]> = (values.iter().zip(&out))
        .filter(|(_, fp)| fp.is_none())
        .map(|(v, _)| *v)
        .collect();
    todo.sort_unstable();
    todo.dedup();
    let salts = salts();
    let (slow, fast): (Vec<&[u8]>, Vec<&[u8]>) = todo.iter().partition(|v| !keyed(v));
    let mut computed: HashMap<&[u8], String> = HashMap::with_capacity(todo.len());
    for (v, t) in slow.iter().zip(stretched(&slow, &salts.stretched)) {
        computed.insert(v, hex16(PREFIX, &t));
    }
    for v in fast {
        computed.insert(v, hex16(PREFIX, &hmac(v, &salts.keyed)));
    }
    for (v, fp) in values.iter().zip(out.iter_mut()) {
        if fp.is_none() {
            *fp = computed.get(v).cloned();
        }
    }
    if let Ok(mut c) = cache.lock() {
        for (v, fp) in computed {
            if c.len() >= 100_000 {
                break;
            }
            c.insert(v.to_vec(), fp);
        }
    }
    out.into_iter().map(Option::unwrap_or_default).collect()
}

/// The `kw1:` fingerprints of keyed values, in order (None for a stretched value, whose `kw1:`
/// is its `kw2:` respelt): what an entry written before `kw2:` holds for them.
pub fn legacy(values: &[&[u8]]) -> Vec<Option<String>> {
    let want: Vec<&[u8]> = values.iter().copied().filter(|v| keyed(v)).collect();
    let mut done = stretched(&want, &salts().stretched).into_iter();
    values
        .iter()
        .map(|v| {
            keyed(v)
                .then(|| done.next())
                .flatten()
                .map(|t| hex16(LEGACY_PREFIX, &t))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector() {
        // Computed independently with Python's hashlib.pbkdf2_hmac.
        assert_eq!(
            fingerprint_with_key(b"hunter2", None),
            "kw2:e3733f12a7a80a03a53cee9d9aee048e"
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
            "kw2:c013a5e89f2c0a2f7c1892e859ef2c4f"
        );
    }

    #[test]
    fn machine_made_values_are_keyed_and_the_rest_stretched() {
        // Python: hmac.new(b"keywarden-fp-v2", v, "sha256").hexdigest()[:32], and with
        // b"keywarden-fp-v2:org-key"; the kw1 form is the PBKDF2 one.
        let token = b"Zq8Vt2LmX9rB4nK7pD1sW6yH3cF5gJ0aE2uR7tQw"; // keywarden:allow
        assert!(keyed(token));
        assert_eq!(
            fingerprint_with_key(token, None),
            "kw2:12873e1d5d7844c9b063c593a58bc448"
        );
        assert_eq!(
            fingerprint_with_key(token, Some("org-key")),
            "kw2:248817c5d81f2da8b47c0bff47b3172d"
        );
        assert_eq!(
            legacy_with_key(token, None),
            "kw1:99441a302bcb70469f21bcce22963752"
        );
        for human in [
            "Summer2024!Summer2024!Summer2024!".as_bytes(),
            b"correct horse battery staple and then some",
            b"MyCompanyProductionDatabasePassword2024",
            b"0123456789012345678901234567890123456789",
            b"Zq8Vt2LmX9rB4nK7pD1sW6yH3cF5gJ0", // 31 bytes
            b"postgres://app:Password123@db.internal:5432/app",
        ] {
            assert!(!keyed(human), "{}", String::from_utf8_lossy(human));
        }
        for machine in [
            "0f8e1c2b9a7d4e3f5a6b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b".as_bytes(),
            b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0",
            b"550e8400-e29b-41d4-a716-446655440000-7f3a9c2e",
        ] {
            assert!(keyed(machine), "{}", String::from_utf8_lossy(machine));
        }
        // A stretched value's two spellings compare equal; a keyed value's do not.
        let weak = b"hunter2";
        assert_eq!(
            canonical(&legacy_with_key(weak, None)),
            fingerprint_with_key(weak, None)
        );
        assert_ne!(
            canonical(&legacy_with_key(token, None)),
            fingerprint_with_key(token, None)
        );
        let refs: [&[u8]; 3] = [weak, token, token];
        let old = legacy(&refs);
        assert_eq!(old[0], None);
        assert_eq!(
            old[1].as_deref(),
            Some(legacy_with_key(token, None).as_str())
        );
        assert_eq!(old[1], old[2]);
        // Identities hashed across runs spell kw2 as kw1: a stretched value keeps its alerts.
        let weak_now = fingerprint_with_key(weak, None);
        assert_eq!(tracking_key(&weak_now), legacy_with_key(weak, None));
        assert_eq!(
            tracking_key(&legacy_with_key(weak, None)),
            legacy_with_key(weak, None)
        );
        assert!(is_fingerprint("kw1:99441a302bcb70469f21bcce22963752"));
        assert!(is_fingerprint("kw2:99441a302bcb70469f21bcce22963752"));
        assert!(!is_fingerprint("kw3:99441a302bcb70469f21bcce22963752"));
        assert!(!is_fingerprint("kw2:99441a30"));
    }

    #[test]
    fn lanes_agree_with_one_at_a_time() {
        let mut rng = crate::test_rng::Rng::new(0x2545_F491_4F6C_DD1D);
        let mut values: Vec<Vec<u8>> = (0..11).map(|i| rng.bytes((i * 13) % 150)).collect();
        values.push(values[3].clone());
        let salt = b"keywarden-fp-v1:lanes";
        let single: Vec<[u8; 32]> = values
            .iter()
            .map(|v| {
                let (inner, outer, u1) = hmac_start(v, salt);
                digest_bytes(&iterate(&[inner], &[outer], [u1], 50)[0])
            })
            .collect();
        let v = |i: usize| values[i].as_slice();
        assert_eq!(pbkdf2_lanes([v(0)], salt, 50)[0], single[0]);
        assert_eq!(pbkdf2_lanes([v(1), v(2)], salt, 50), [single[1], single[2]]);
        assert_eq!(
            pbkdf2_lanes([v(3), v(4), v(5)], salt, 50),
            [single[3], single[4], single[5]]
        );
        #[cfg(target_arch = "x86_64")]
        if wide::available() {
            let all: Vec<&[u8]> = (0..wide::LANES).map(|i| v(i % values.len())).collect();
            let want: Vec<[u8; 32]> = (0..wide::LANES).map(|i| single[i % values.len()]).collect();
            // SAFETY: `wide::available()` was checked above.
            unsafe {
                assert_eq!(pbkdf2_wide(&all, salt, 50), want);
                assert_eq!(pbkdf2_wide(&all[5..12], salt, 50), want[5..12]);
            }
        }
        // The batch API: every value's own fingerprint, duplicates included, in order.
        let refs: Vec<&[u8]> = values.iter().map(Vec::as_slice).collect();
        let batch = fingerprints(&refs);
        for (v, fp) in refs.iter().zip(&batch) {
            assert_eq!(*fp, compute(v, salts()));
        }
        assert_eq!(batch[3], batch[11]);
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
