//! The unit tests' one seeded generator: a test that draws its data from a fixed seed sees the
//! same data on every run and machine, so a failure reproduces. Not for anything but tests
//! (xorshift64 is fast and even enough for test data, and nothing more).
//!
//! The same construction as the integration tests' `corpus::Rng`, so a seed means one stream
//! in both.

/// A xorshift64 stream from a seed.
pub(crate) struct Rng(u64);

impl Rng {
    /// The stream for `seed`. Any seed will do, small and neighbouring ones included: it is
    /// spread over the state's bits (and the state is never zero, which would stay zero).
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// `n` bytes, every value possible (for binary data).
    pub(crate) fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    /// `n` bytes drawn from `alphabet`, each independently (repeats and runs included).
    pub(crate) fn pick(&mut self, alphabet: &[u8], n: usize) -> Vec<u8> {
        (0..n)
            .map(|_| alphabet[self.below(alphabet.len())])
            .collect()
    }

    /// [`pick`](Rng::pick) as a string; `alphabet` must be ASCII.
    pub(crate) fn string(&mut self, alphabet: &[u8], n: usize) -> String {
        assert!(alphabet.is_ascii(), "an ASCII alphabet");
        self.pick(alphabet, n).into_iter().map(char::from).collect()
    }
}
