//! Values that look like secrets but are stand-ins: documentation examples, templating,
//! masked or repeated characters.

/// Fragments that only appear in stand-in values (checked case-insensitively).
const MARKERS: &[&str] = &[
    "example",
    "xxxx",
    "placeholder",
    "changeme",
    "change_me",
    "change-me",
    "redacted",
    "dummy",
    "your_",
    "your-",
    "yourkey",
    "yourtoken",
    "yoursecret",
    "insert_",
    "insert-",
    "replaceme",
    "replace_me",
    "lorem",
    "notreal",
    "not_real",
    "not-a-real",
    "not_a_real",
    "foobar",
    "*****",
    "....",
    "<redacted>",
];

const SEQUENCES: &[&str] = &[
    "abcdefgh", "01234567", "12345678", "23456789", "98765432", "qwertyui", "asdfghjk",
];

/// Credentials that providers publish in their documentation (`src/doc-examples.txt`).
pub fn is_documentation_example(value: &[u8]) -> bool {
    // A dozen values: comparing lengths first is cheaper than hashing every candidate.
    static LIST: std::sync::OnceLock<Vec<&'static [u8]>> = std::sync::OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("doc-examples.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::as_bytes)
            .collect()
    })
    .contains(&value)
}

/// True when `value` is a placeholder rather than a credential.
pub fn is_placeholder(value: &[u8]) -> bool {
    if value.is_empty() || is_documentation_example(value) {
        return true;
    }
    // One pass for every fragment: a substring search per fragment was most of the cost of
    // each candidate where secrets are dense.
    static FRAGMENTS: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>> =
        std::sync::OnceLock::new();
    let has_fragment = FRAGMENTS
        .get_or_init(|| any_of(MARKERS.iter().chain(SEQUENCES)))
        .as_ref()
        .is_some_and(|ac| ac.is_match(value));
    if has_fragment {
        return true;
    }
    if is_template(value) {
        return true;
    }
    // Long runs of one character (masks such as 000000 or aaaaaa). Whitespace is not a mask:
    // a secret that spans lines (a JSON Web Key object) holds the file's indentation.
    let mut run = 1;
    for w in value.windows(2) {
        if w[0] == w[1] && !w[0].is_ascii_whitespace() {
            run += 1;
            if run >= 6 {
                return true;
            }
        } else {
            run = 1;
        }
    }
    // Very few distinct characters for the length.
    let mut seen = [false; 256];
    let mut distinct = 0;
    for &b in value {
        if !seen[b as usize] {
            seen[b as usize] = true;
            distinct += 1;
        }
    }
    value.len() >= 8 && distinct <= 3
}

/// One automaton for a fixed list of fragments (ASCII case-insensitive). Built from
/// constants, so it builds: the tests look for every fragment through it.
fn any_of<I: IntoIterator<Item = &'static &'static str>>(
    fragments: I,
) -> Option<aho_corasick::AhoCorasick> {
    aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .kind(Some(aho_corasick::AhoCorasickKind::DFA))
        .build(fragments)
        .ok()
}

/// Templating and variable references: `${X}`, `{{ x }}`, `<x>`, `«x»` (Xtend templates,
/// generated test fixtures), `%(x)s`, `$(cmd)`, `$VAR`.
pub fn is_template(value: &[u8]) -> bool {
    let v = value;
    let starts = |p: &[u8]| v.starts_with(p);
    (starts("«".as_bytes()) && memchr::memmem::find(v, "»".as_bytes()).is_some())
        || starts(b"${")
        || starts(b"{{")
        || starts(b"$(")
        || starts(b"%(")
        || starts(b"#{")
        || starts(b"<%")
        || (starts(b"<") && v.ends_with(b">"))
        || (starts(b"$")
            && v.len() > 1
            && v[1..]
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'_'))
        || memchr::memmem::find(v, b"{{").is_some()
        || memchr::memmem::find(v, b"${").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        for p in [
            &b"AKIAIOSFODNN7EXAMPLE"[..],
            b"xxxxxxxxxxxxxxxx",
            b"${DB_PASSWORD}",
            b"{{ .Values.token }}",
            b"<your-api-key>",
            "«weak»".as_bytes(),
            b"000000000000",
            b"sk_live_abcdefghijklmnop",
            b"$SECRET_KEY",
            b"ababababab",
            b"sk_test_4eC39HqLyjWDarjtT1zdp7dc",
        ] {
            assert!(is_placeholder(p), "{}", String::from_utf8_lossy(p));
        }
        // Every fragment, in any case, anywhere in a value.
        for f in MARKERS.iter().chain(SEQUENCES) {
            for v in [
                format!("Zq8vT2{f}mK9pL4"),
                format!("{}Zq8vT2mK9p", f.to_ascii_uppercase()),
            ] {
                assert!(is_placeholder(v.as_bytes()), "{v}");
            }
        }
        for r in [
            &b"ghp_R4nd0mBody7Qx2LmZ9pWcVtYkN3sHjD1fGa"[..],
            b"Zq8vT2mK9pL4xR7w",
            // An indented key's shape: its indentation is no mask.
            b"{\n        \"kty\": \"EC\",\n        \"d\": \"szED-s-nStJxtTEFWd5er6jo\"\n      }", // keywarden:allow
        ] {
            assert!(!is_placeholder(r), "{}", String::from_utf8_lossy(r));
        }
    }
}

/// Words that make a value a stand-in or a textbook password rather than a generated secret,
/// checked after undoing common character swaps (`P4ssw0rd` reads as `password`). Only
/// generic rules use this: a provider token is random by construction.
const DUMMY_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passw",
    "secret",
    "sekret",
    "hunter",
    "letmein",
    "qwerty",
    "welcome",
    "admin",
    "changeme",
    "default",
    "example",
    "sample",
    "dummy",
    "test",
    "demo",
    "foobar",
    "abcdef",
    "iloveyou",
    "trustno",
    "login",
    "mysecret",
    "mypass",
    "supersecret",
    "topsecret",
    "verysecret",
    "strong",
    "insecure",
];

pub(crate) fn is_dummy_password(value: &[u8]) -> bool {
    // A long hex string is a digest or a generated key: read as letters (`7e57` as `test`,
    // the other digits dropped) it spells words by chance.
    if value.len() >= 20 && value.iter().all(u8::is_ascii_hexdigit) {
        return false;
    }
    let norm: String = value
        .iter()
        .filter_map(|&b| {
            let c = match b {
                b'0' => 'o',
                b'1' => 'i',
                b'3' => 'e',
                b'4' | b'@' => 'a',
                b'5' | b'$' => 's',
                b'7' => 't',
                _ => (b as char).to_ascii_lowercase(),
            };
            c.is_ascii_alphabetic().then_some(c)
        })
        .collect();
    static WORDS: std::sync::OnceLock<Option<aho_corasick::AhoCorasick>> =
        std::sync::OnceLock::new();
    let has_word = WORDS
        .get_or_init(|| any_of(DUMMY_WORDS))
        .as_ref()
        .is_some_and(|ac| ac.is_match(&norm));
    // Digits read as letters above, so a run of digits is looked for in the value itself.
    has_word || value.windows(6).any(|w| w == b"123456")
}

#[cfg(test)]
mod dummy_tests {
    use super::*;

    #[test]
    fn textbook_passwords() {
        for v in [
            "B0bP4ssw0rd",
            "password12345",
            "VeryStrongPasswordHere!",
            "MySekretPa$$word",
            "AbcDef123!@#",
            "hunter42",
        ] {
            assert!(is_dummy_password(v.as_bytes()), "{v}");
        }
        for w in DUMMY_WORDS {
            let v = format!("Tq7#{}Lm2pX9", w.to_ascii_uppercase());
            assert!(is_dummy_password(v.as_bytes()), "{v}");
        }
        for v in [
            "Tq7#vLm2pX9wRz",
            "h8Kp2sWq9ZtLr4Vc",
            "Zq8vT2mK9pL4xR7w",
            "57357a6e5bc6f2968b41d720e64641856fa74fdfb7b1a05e",
        ] {
            assert!(!is_dummy_password(v.as_bytes()), "{v}");
        }
    }
}
