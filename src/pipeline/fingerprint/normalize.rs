//! Secret values as they are fingerprinted: a private key is its base64 body, whatever file
//! format it was written in, so the scanner and `keywarden fingerprint` agree on it.

/// The base64 characters of `raw`, leaving out two-character escapes (`\n`, `\r`, `\t`)
/// and a `+` between two quoted strings (concatenation in code).
pub fn base64_body(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match step(raw, i) {
            Step::Body => {
                out.push(raw[i]);
                i += 1;
            }
            Step::Skip(n) => i += n,
        }
    }
    out
}

enum Step {
    Body,
    Skip(usize),
}

/// Whether `raw[i]` is a body character, else how many bytes to pass over.
fn step(raw: &[u8], i: usize) -> Step {
    let space = |b: u8| b.is_ascii_whitespace();
    let quote = |b: Option<&u8>| matches!(b, Some(b'"' | b'\''));
    match raw[i] {
        b'\\' if matches!(raw.get(i + 1), Some(b'n' | b'r' | b't')) => Step::Skip(2),
        b'+' if quote(raw[..i].iter().rev().find(|&&c| !space(c)))
            && quote(raw[i + 1..].iter().find(|&&c| !space(c))) =>
        {
            Step::Skip(1)
        }
        b if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=') => Step::Body,
        _ => Step::Skip(1),
    }
}

/// The body of the first private key block in `text` (PEM or PGP armour), as the rules with
/// `normalize = "base64-body"` report it: armour and header lines (`Proc-Type:`,
/// `Version:`) left out, and a PGP block's checksum line too. None when there is no block.
pub fn private_key_body(text: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(text).ok()?;
    // Blocks before it (a certificate, a public key) are passed over.
    let (label, rest) = text.split("-----BEGIN ").skip(1).find_map(|rest| {
        let label = &rest[..rest.find("-----")?];
        let private = label.ends_with("PRIVATE KEY") || label.ends_with("PRIVATE KEY BLOCK");
        private.then(|| (label, &rest[label.len() + 5..]))
    })?;
    let body = &rest[..rest.find("-----END ")?];
    let pgp = label.starts_with("PGP ");
    let kept: Vec<&str> = (body.split('\n'))
        .flat_map(|l| l.split("\\n"))
        .filter(|l| {
            let t = l.trim_matches(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ','));
            let header = t.contains(':');
            let checksum = pgp && t.len() == 5 && t.starts_with('=');
            !header && !checksum
        })
        .collect();
    Some(base64_body(kept.join("\n").as_bytes()))
}

/// The value a fingerprint is taken of, for a value given whole (`keywarden fingerprint`, a
/// secret manager's value): a private key block's body, else the value as it is.
pub fn value(input: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    match private_key_body(input) {
        Some(body) if !body.is_empty() => std::borrow::Cow::Owned(body),
        _ => std::borrow::Cow::Borrowed(input),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Fake key material: random base64, not a key.
    const LINES: [&str; 3] = [
        "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDRq+7XcVb3yN1p",
        "+Xk2Zq8Wv4m0Qe9Lr5Tt1Hs6Ud2Jf3Ka7Pb8Mc9Nd0Oe1Qf2Rg3Sh4Ti5Uj6Vk7W",
        "l8Xm9Yn0Zo1ap2bq3cr4ds5et6fu7gv8hw9ix0jy1kz2+A3/B4C5D6E7F8G9H0I1J+",
    ];

    fn body() -> String {
        LINES.concat()
    }

    #[test]
    fn a_key_body_is_the_same_in_every_file_format() {
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            LINES.join("\n")
        );
        let yaml = format!(
            "tls.key: |\n  -----BEGIN PRIVATE KEY-----\n  {}\n  -----END PRIVATE KEY-----\n",
            LINES.join("\n  ")
        );
        let json = format!(
            "{{\"private_key\": \"-----BEGIN PRIVATE KEY-----\\n{}\\n-----END PRIVATE KEY-----\\n\"}}",
            LINES.join("\\n")
        );
        let java = format!(
            "String k = \"-----BEGIN PRIVATE KEY-----\\n\" +\n    \"{}\\n\" +\n    \"-----END PRIVATE KEY-----\";",
            LINES.join("\\n\" +\n    \"")
        );
        let crlf = pem.replace('\n', "\r\n");
        for text in [&pem, &yaml, &json, &java, &crlf] {
            assert_eq!(
                String::from_utf8(private_key_body(text.as_bytes()).unwrap()).unwrap(),
                body(),
                "{text}"
            );
        }
    }

    #[test]
    fn headers_and_a_pgp_checksum_are_not_body() {
        let legacy = format!(
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0A1B2C3D4E5F60718293A4B5C6D7E8F9\n\n{}\n-----END RSA PRIVATE KEY-----",
            LINES.join("\n")
        );
        assert_eq!(
            private_key_body(legacy.as_bytes()).unwrap(),
            body().as_bytes()
        );
        let pgp = format!(
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\n{}\n=Ab3+\n-----END PGP PRIVATE KEY BLOCK-----",
            LINES.join("\n")
        );
        assert_eq!(private_key_body(pgp.as_bytes()).unwrap(), body().as_bytes());
    }

    #[test]
    fn a_plus_inside_the_body_stays() {
        // Lines may start or end with '+'; only a '+' between quoted strings is an operator.
        assert_eq!(base64_body(b"ab+\n+cd"), b"ab++cd");
        assert_eq!(base64_body(b"\"ab+\" + \"+cd\""), b"ab++cd");
        assert_eq!(base64_body(b"ab\\ncd\\r\\tef"), b"abcdef");
    }

    #[test]
    fn other_values_are_kept_whole() {
        assert_eq!(&*value(b"hunter2"), b"hunter2");
        assert_eq!(
            &*value(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"),
            b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"
        );
        let pem = format!(
            "-----BEGIN EC PRIVATE KEY-----\n{}\n-----END EC PRIVATE KEY-----",
            LINES[0]
        );
        assert_eq!(&*value(pem.as_bytes()), LINES[0].as_bytes());
        // A certificate chain before the key, as in a combined .pem file.
        let chain = format!("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n{pem}");
        assert_eq!(&*value(chain.as_bytes()), LINES[0].as_bytes());
    }
}
