//! Secrets encrypted at rest: files and values that tools built for committing secrets have
//! encrypted (SOPS, Sealed Secrets, Ansible Vault, EJSON, git-crypt, Rails encrypted
//! credentials).
//! Ciphertext is not a leak, so nothing in it is reported; a plaintext value next to it still
//! is. Every blob is asked, so the test is cheap: git-crypt and Rails files are told by their
//! first bytes and name; the others by a marker in the blob's head or an `.ejson` name
//! (`find`), or anywhere in a
//! blob that has matches (`find_anywhere`), which only then costs a search of the whole blob
//! (a search of every blob for the markers was a sixth of a clean tree's scan).

use std::ops::Range;
use std::sync::OnceLock;

/// git-crypt writes this header, then a 12-byte nonce, before the ciphertext.
pub const GIT_CRYPT_HEADER: &[u8] = b"\0GITCRYPT\0";

/// What a text blob holds that is encrypted at rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encrypted {
    /// The whole blob is ciphertext (an Ansible Vault file, a Rails `*.yml.enc`): not scanned.
    Whole,
    /// Byte ranges holding ciphertext, sorted and disjoint (SOPS values and metadata, Sealed
    /// Secrets' `encryptedData`, inline Ansible Vault payloads): the blob is scanned, and a
    /// match whose secret overlaps one is dropped.
    Values(Vec<Range<usize>>),
}

impl Encrypted {
    /// Whether `start..end` overlaps ciphertext.
    pub fn covers(&self, start: usize, end: usize) -> bool {
        match self {
            Encrypted::Whole => true,
            Encrypted::Values(spans) => {
                // The first span ending after `start` is the only one that can overlap.
                let i = spans.partition_point(|s| s.end <= start);
                spans.get(i).is_some_and(|s| s.start < end.max(start + 1))
            }
        }
    }
}

/// Markers only these formats write: a SOPS value's opening, an Ansible Vault payload's
/// header, a Sealed Secret's kind, an EJSON value's opening.
const MARKERS: &[&[u8]] = &[
    b"ENC[AES256_GCM,data:",
    b"$ANSIBLE_VAULT;",
    b"SealedSecret",
    b"EJ[1:",
];
const SOPS: usize = 0;
const VAULT: usize = 1;
const SEALED: usize = 2;
const EJSON: usize = 3;

/// How much of a blob `find` looks at. SOPS encrypts from the first value on, and a manifest
/// names its kind in its first lines. (Searching 8 KiB cost 2% of a clean tree's scan.)
const HEAD: usize = 4096;

fn markers() -> Option<&'static aho_corasick::AhoCorasick> {
    static AC: OnceLock<Option<aho_corasick::AhoCorasick>> = OnceLock::new();
    AC.get_or_init(|| aho_corasick::AhoCorasick::new(MARKERS).ok())
        .as_ref()
}

/// What of the text blob `data` at `path` is encrypted at rest, as told by its name or head.
pub fn find(path: &str, data: &[u8]) -> Option<Encrypted> {
    if is_rails_encrypted(path, data) {
        return Some(Encrypted::Whole);
    }
    // Two needles with rare bytes: `AES256` opens both a SOPS value's cipher and ends an
    // Ansible Vault header. One automaton over the three markers ran a prefilter on `E`,
    // `$` and `S`, which are common.
    static AES: OnceLock<memchr::memmem::Finder<'static>> = OnceLock::new();
    static SEALED_KIND: OnceLock<memchr::memmem::Finder<'static>> = OnceLock::new();
    // EJSON (Shopify's) files are named `*.ejson`; their values may start anywhere.
    if path.ends_with(".ejson") {
        return find_anywhere(data);
    }
    let head = &data[..data.len().min(HEAD)];
    let aes = AES.get_or_init(|| memchr::memmem::Finder::new(b"AES256"));
    let sealed = SEALED_KIND.get_or_init(|| memchr::memmem::Finder::new(MARKERS[SEALED]));
    if aes.find(head).is_none() && sealed.find(head).is_none() {
        return None;
    }
    find_anywhere(data)
}

/// What of the text blob `data` is encrypted at rest, wherever it lies.
pub fn find_anywhere(data: &[u8]) -> Option<Encrypted> {
    let ac = markers()?;
    let mut spans: Vec<Range<usize>> = Vec::new();
    let (mut sops_values, mut ejson_values, mut sealed) = (0, 0, false);
    let mut from = 0;
    while let Some(m) = ac.find(aho_corasick::Input::new(data).span(from..data.len())) {
        from = m.end();
        match m.pattern().as_usize() {
            SOPS => {
                if let Some(end) = sops_value_end(data, m.start()) {
                    spans.push(m.start()..end);
                    sops_values += 1;
                    from = end;
                }
            }
            VAULT => {
                if let Some(end) = vault_payload_end(data, m.start()) {
                    spans.push(m.start()..end);
                    from = end;
                }
            }
            SEALED => sealed |= is_sealed_secret_kind(data, m.start()),
            EJSON => {
                if let Some(end) = ejson_value_end(data, m.start()) {
                    spans.push(m.start()..end);
                    ejson_values += 1;
                    from = end;
                }
            }
            _ => {}
        }
    }
    // An ENC[...] value is SOPS ciphertext only in a file SOPS wrote, which carries its
    // metadata: the value shape alone could be pasted anywhere.
    if sops_values > 0 {
        let meta = sops_metadata(data);
        if meta.is_empty() {
            spans.retain(|s| !data[s.start..].starts_with(MARKERS[SOPS]));
        }
        spans.extend(meta);
    }
    // Likewise an EJSON value, in a file that names the public key it was encrypted to.
    if ejson_values > 0 && memchr::memmem::find(data, b"\"_public_key\"").is_none() {
        spans.retain(|s| !data[s.start..].starts_with(MARKERS[EJSON]));
    }
    if sealed {
        spans.extend(sealed_values(data));
    }
    if spans.is_empty() {
        return None;
    }
    spans.sort_by_key(|s| s.start);
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(spans.len());
    for s in spans {
        match merged.last_mut() {
            Some(last) if s.start <= last.end => last.end = last.end.max(s.end),
            _ => merged.push(s),
        }
    }
    // A vault file is one payload: nothing around it but whitespace.
    let blank = |b: &[u8]| b.iter().all(u8::is_ascii_whitespace);
    if let [only] = &merged[..]
        && blank(&data[..only.start])
        && blank(&data[only.end..])
    {
        return Some(Encrypted::Whole);
    }
    Some(Encrypted::Values(merged))
}

/// Rails encrypted credentials (`credentials.yml.enc`, `config/credentials/production.yml.enc`,
/// any `ActiveSupport::EncryptedFile`): one line of base64 parts joined by `--` (ciphertext,
/// IV and auth tag; Rails 5.1's encrypted secrets: ciphertext and digest).
fn is_rails_encrypted(path: &str, data: &[u8]) -> bool {
    if !path.ends_with(".enc") {
        return false;
    }
    let text = data.trim_ascii();
    let b64 = |p: &[u8]| {
        p.len() >= 4
            && p.iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    };
    let parts: Vec<&[u8]> = split_on(text, b"--");
    (2..=3).contains(&parts.len()) && parts.iter().all(|p| b64(p))
}

fn split_on<'a>(text: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = memchr::memmem::find(rest, sep) {
        out.push(&rest[..i]);
        rest = &rest[i + sep.len()..];
    }
    out.push(rest);
    out
}

/// The end of the SOPS value opening at `at` (`ENC[AES256_GCM,data:...,iv:...,tag:...,type:...]`),
/// if it has that shape on one line.
fn sops_value_end(data: &[u8], at: usize) -> Option<usize> {
    let rest = &data[at..];
    let close = memchr::memchr2(b']', b'\n', rest).filter(|&i| rest[i] == b']')?;
    let value = &rest[..close];
    let has = |field: &[u8]| memchr::memmem::find(value, field).is_some();
    (has(b",iv:") && has(b",tag:") && has(b",type:")).then_some(at + close + 1)
}

/// The end of the EJSON value opening at `at` (`EJ[1:<public key>:<nonce>:<box>]`, base64
/// parts), if it has that shape on one line.
fn ejson_value_end(data: &[u8], at: usize) -> Option<usize> {
    let rest = &data[at + MARKERS[EJSON].len()..];
    let close = memchr::memchr2(b']', b'\n', rest).filter(|&i| rest[i] == b']')?;
    let parts = split_on(&rest[..close], b":");
    let b64 = |p: &[u8]| {
        p.len() >= 16
            && p.iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    };
    (parts.len() == 3 && parts.iter().all(|p| b64(p)))
        .then_some(at + MARKERS[EJSON].len() + close + 1)
}

/// The metadata SOPS writes into a file it encrypted: the top-level `sops:` map of YAML, the
/// `"sops"` object of JSON, the `sops_*` lines of dotenv and the `[sops]` section of INI. It
/// holds the data key encrypted to each recipient (PGP, age, KMS, Vault): ciphertext too.
fn sops_metadata(data: &[u8]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    for at in memchr::memmem::find_iter(data, b"sops") {
        let line_start = data[..at]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        let line_end = memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |p| at + p);
        let before = &data[line_start..at];
        let after = &data[at + 4..line_end];
        if before.is_empty() && after.starts_with(b":") && after[1..].trim_ascii().is_empty() {
            // YAML: the block of indented lines (or list items) under `sops:`.
            out.push(line_start..yaml_block_end(data, line_end));
        } else if before.is_empty() && after.starts_with(b"_") && after.contains(&b'=') {
            // dotenv: one `sops_version=...` line each.
            out.push(line_start..line_end);
        } else if before.trim_ascii() == b"[" && after.trim_ascii() == b"]" {
            // INI: the section up to the next one.
            out.push(line_start..ini_section_end(data, line_end));
        } else if before.ends_with(b"\"")
            && after.starts_with(b"\"")
            && after[1..].trim_ascii_start().starts_with(b":")
        {
            // JSON: the object after `"sops":`.
            let value = after[1..].trim_ascii_start()[1..].trim_ascii_start();
            let open = line_end - value.len();
            if value.starts_with(b"{")
                && let Some(end) = json_object_end(data, open)
            {
                out.push(line_start..end);
            }
        }
    }
    out
}

/// Where a YAML block whose key line ends at `key_end` ends: at the next line indented no
/// more than the key, other than a list item.
fn yaml_block_end(data: &[u8], key_end: usize) -> usize {
    let key_indent = indent_at(data, key_end);
    block_end(data, key_end, key_indent)
}

/// The indentation of the line holding `at`.
fn indent_at(data: &[u8], at: usize) -> usize {
    let start = data[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    data[start..].iter().take_while(|&&b| b == b' ').count()
}

/// The end of the lines after `from` (a line end) that are blank or indented deeper
/// than `indent`; YAML sequences may sit at their key's indentation (`- ...`).
fn block_end(data: &[u8], from: usize, indent: usize) -> usize {
    let mut end = from;
    let mut pos = from;
    while pos < data.len() {
        let start = pos + 1;
        let line_end =
            memchr::memchr(b'\n', &data[start.min(data.len())..]).map_or(data.len(), |p| start + p);
        let line = &data[start.min(line_end)..line_end];
        let spaces = line.iter().take_while(|&&b| b == b' ').count();
        let body = line[spaces..].trim_ascii_end();
        if !body.is_empty() {
            let nested = spaces > indent || (spaces == indent && body.starts_with(b"- "));
            // A document marker (`---`) is at column 0: not nested.
            if !nested {
                break;
            }
            end = line_end;
        }
        pos = line_end;
    }
    end
}

fn ini_section_end(data: &[u8], from: usize) -> usize {
    let mut pos = from;
    while pos < data.len() {
        let start = pos + 1;
        if data.get(start) == Some(&b'[') {
            return pos;
        }
        pos =
            memchr::memchr(b'\n', &data[start.min(data.len())..]).map_or(data.len(), |p| start + p);
    }
    data.len()
}

/// The end (past its `}`) of the JSON object opening at `open`, skipping strings.
fn json_object_end(data: &[u8], open: usize) -> Option<usize> {
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    for (i, &b) in data.iter().enumerate().skip(open) {
        if in_str {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'{' => depth += 1,
            b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// The end of the Ansible Vault payload whose header starts at `at`: the header
/// (`$ANSIBLE_VAULT;1.1;AES256`, or `1.2;AES256;<vault id>`) and the lines of hex after it, in a
/// vault file or a YAML `!vault |` block, or the `\n`-escaped hex of a JSON string.
fn vault_payload_end(data: &[u8], at: usize) -> Option<usize> {
    let rest = &data[at + b"$ANSIBLE_VAULT;".len()..];
    let version = rest
        .strip_prefix(b"1.1;")
        .or_else(|| rest.strip_prefix(b"1.2;"))?;
    let body = version.strip_prefix(b"AES256")?;
    let mut pos = data.len() - body.len();
    // A 1.2 header's vault id runs to the end of the line (or of the escaped line).
    if data.get(pos) == Some(&b';') {
        while pos < data.len() && !matches!(data[pos], b'\n' | b'\r' | b'\\' | b'"' | b'\'') {
            pos += 1;
        }
    }
    let mut end = pos;
    let mut hex = 0usize;
    loop {
        match data.get(pos) {
            Some(b) if b.is_ascii_hexdigit() => {
                hex += 1;
                pos += 1;
                end = pos;
            }
            // `\n` escapes of a JSON or single-line form.
            Some(b'\\') if matches!(data.get(pos + 1), Some(b'n' | b'r')) => pos += 2,
            Some(b'\r' | b'\n' | b' ' | b'\t') => {
                // A following line continues the payload only if it is all hex.
                while matches!(data.get(pos), Some(b'\r' | b'\n' | b' ' | b'\t')) {
                    pos += 1;
                }
                let line_end = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |p| pos + p);
                let line = data[pos..line_end].trim_ascii_end();
                if line.is_empty() || !line.iter().all(u8::is_ascii_hexdigit) {
                    break;
                }
            }
            _ => break,
        }
    }
    // A header with no payload is documentation about the format, not ciphertext.
    (hex >= 32).then_some(end)
}

/// Whether the `SealedSecret` at `at` is a document's kind (`kind: SealedSecret`, JSON
/// `"kind": "SealedSecret"`), not a word in prose or code.
fn is_sealed_secret_kind(data: &[u8], at: usize) -> bool {
    let before = data[..at].trim_ascii_end();
    let before = before
        .strip_suffix(b"\"")
        .unwrap_or(before)
        .trim_ascii_end();
    let Some(before) = before.strip_suffix(b":") else {
        return false;
    };
    let before = before.trim_ascii_end();
    let before = before.strip_suffix(b"\"").unwrap_or(before);
    before.ends_with(b"kind")
}

/// Values under each `encryptedData` of a Sealed Secret (YAML block or JSON object): runs of
/// base64 long enough to be ciphertext (RSA-OAEP session key and AES-GCM payload, hundreds of
/// characters; documentation shortens them).
fn sealed_values(data: &[u8]) -> Vec<Range<usize>> {
    const MIN_CIPHERTEXT: usize = 20;
    let mut out = Vec::new();
    for at in memchr::memmem::find_iter(data, b"encryptedData") {
        let after = &data[at + b"encryptedData".len()..];
        let after = after
            .strip_prefix(b"\"")
            .unwrap_or(after)
            .trim_ascii_start();
        let Some(after) = after.strip_prefix(b":") else {
            continue;
        };
        let value_start = data.len() - after.len();
        let ws = after
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        let block = match after.get(ws) {
            // JSON or YAML flow mapping.
            Some(b'{') => json_object_end(data, value_start + ws).map(|e| value_start..e),
            // YAML block mapping: the lines indented deeper than the key.
            Some(b'\n' | b'\r') | None => {
                let line_end = value_start + ws;
                Some(value_start..block_end(data, line_end, indent_at(data, at)))
            }
            _ => None,
        };
        let Some(block) = block else { continue };
        let mut i = block.start;
        while i < block.end {
            let b64 = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=');
            if b64(data[i]) && (i == 0 || !b64(data[i - 1])) {
                let run = data[i..block.end].iter().take_while(|&&b| b64(b)).count();
                // A key is followed by `:`; a value by a line end, quote or comma.
                if run >= MIN_CIPHERTEXT && data.get(i + run) != Some(&b':') {
                    out.push(i..i + run);
                }
                i += run.max(1);
            } else {
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random text in `alphabet`, the same for a seed.
    fn random(seed: u64, alphabet: &[u8], n: usize) -> String {
        crate::test_rng::Rng::new(seed).string(alphabet, n)
    }

    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const HEX: &[u8] = b"0123456789abcdef";

    fn enc(seed: u64) -> String {
        format!(
            "ENC[AES256_GCM,data:{},iv:{}=,tag:{}==,type:str]",
            random(seed, B64, 24),
            random(seed + 1, B64, 43),
            random(seed + 2, B64, 22)
        )
    }

    fn covered(data: &str, e: &Encrypted, needle: &str) -> bool {
        let at = data.find(needle).unwrap();
        e.covers(at, at + needle.len())
    }

    #[test]
    fn sops_yaml_values_and_metadata() {
        let (v1, v2, mac) = (enc(1), enc(7), enc(13));
        let text = format!(
            "db:\n    user: app\n    password: {v1}\napi_token: {v2}\nsops:\n    age:\n        - recipient: age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq\n          enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n            {}\n            -----END AGE ENCRYPTED FILE-----\n    lastmodified: \"2024-05-01T10:00:00Z\"\n    mac: {mac}\n    version: 3.9.0\n",
            random(3, B64, 64)
        );
        let e = find("secrets.yaml", text.as_bytes()).unwrap();
        assert!(matches!(e, Encrypted::Values(_)));
        for v in [&v1, &v2, &mac, "-----BEGIN AGE"] {
            assert!(covered(&text, &e, v), "{v}");
        }
        assert!(!covered(&text, &e, "user: app"));
    }

    #[test]
    fn sops_values_need_metadata() {
        let text = format!("password: {}\n", enc(5));
        assert_eq!(find("notes.md", text.as_bytes()), None);
    }

    #[test]
    fn sops_json_env_ini() {
        let (v, mac) = (enc(21), enc(22));
        let json = format!(
            "{{\n  \"password\": \"{v}\",\n  \"sops\": {{\n    \"kms\": null,\n    \"mac\": \"{mac}\",\n    \"version\": \"3.9.0\"\n  }}\n}}\n"
        );
        let e = find("s.json", json.as_bytes()).unwrap();
        assert!(covered(&json, &e, &v) && covered(&json, &e, "\"version\": \"3.9.0\""));
        assert!(!covered(&json, &e, "\"password\""));
        let env = format!("DB_PASSWORD={v}\nsops_version=3.9.0\nsops_mac={mac}\n");
        let e = find("s.env", env.as_bytes()).unwrap();
        assert!(covered(&env, &e, &v) && covered(&env, &e, "sops_version=3.9.0"));
        let ini = format!("[db]\npassword = {v}\n[sops]\nversion = 3.9.0\nmac = {mac}\n");
        let e = find("s.ini", ini.as_bytes()).unwrap();
        assert!(covered(&ini, &e, &v) && covered(&ini, &e, "version = 3.9.0"));
        assert!(!covered(&ini, &e, "[db]"));
    }

    #[test]
    fn ansible_vault_file_and_inline() {
        let hex: Vec<String> = (0..4).map(|i| random(40 + i, HEX, 80)).collect();
        let file = format!("$ANSIBLE_VAULT;1.1;AES256\n{}\n", hex.join("\n"));
        assert_eq!(
            find("group_vars/all/vault.yml", file.as_bytes()),
            Some(Encrypted::Whole)
        );
        let labelled = format!("$ANSIBLE_VAULT;1.2;AES256;prod\n{}\n", hex.join("\n"));
        assert_eq!(find("vault", labelled.as_bytes()), Some(Encrypted::Whole));
        let inline = format!(
            "db_user: app\ndb_password: !vault |\n          $ANSIBLE_VAULT;1.1;AES256\n          {}\nother: plain\n",
            hex.join("\n          ")
        );
        let e = find("vars.yml", inline.as_bytes()).unwrap();
        assert!(covered(&inline, &e, &hex[3]) && covered(&inline, &e, "$ANSIBLE_VAULT"));
        assert!(!covered(&inline, &e, "other: plain"));
        let json = format!(
            "{{\"db_password\": {{\"__ansible_vault\": \"$ANSIBLE_VAULT;1.1;AES256\\n{}\\n\"}}, \"x\": 1}}",
            hex.join("\\n")
        );
        let e = find("vars.json", json.as_bytes()).unwrap();
        assert!(covered(&json, &e, &hex[2]) && !covered(&json, &e, "\"x\": 1"));
        // The header alone, in documentation.
        assert_eq!(
            find(
                "README.md",
                b"starts with $ANSIBLE_VAULT;1.1;AES256 then hex"
            ),
            None
        );
    }

    #[test]
    fn sealed_secrets_yaml_and_json() {
        let (a, b) = (random(61, B64, 400), random(62, B64, 380));
        let yaml = format!(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: db\nspec:\n  encryptedData:\n    password: {a}\n    api-token: {b}\n  template:\n    metadata:\n      name: db\n"
        );
        let e = find("sealed.yaml", yaml.as_bytes()).unwrap();
        assert!(covered(&yaml, &e, &a) && covered(&yaml, &e, &b));
        assert!(!covered(&yaml, &e, "password:") && !covered(&yaml, &e, "template:"));
        let json = format!(
            "{{\"kind\": \"SealedSecret\", \"spec\": {{\"encryptedData\": {{\"password\": \"{a}\"}}, \"template\": {{}}}}}}"
        );
        let e = find("sealed.json", json.as_bytes()).unwrap();
        assert!(covered(&json, &e, &a) && !covered(&json, &e, "\"password\""));
        // Not a Sealed Secret: a kind word elsewhere.
        let other = format!("// SealedSecret support\nencryptedData:\n  password: {a}\n");
        assert_eq!(find("x.go", other.as_bytes()), None);
    }

    #[test]
    fn ejson_values() {
        let value = format!(
            "EJ[1:{}=:{}:{}]",
            random(81, B64, 43),
            random(82, B64, 32),
            random(83, B64, 60)
        );
        let text = format!(
            "{{\n  \"_public_key\": \"{}\",\n  \"database_password\": \"{value}\",\n  \"plain\": \"x\"\n}}\n",
            random(84, HEX, 64)
        );
        let e = find("config/secrets.ejson", text.as_bytes()).unwrap();
        assert!(covered(&text, &e, &value) && !covered(&text, &e, "\"plain\""));
        // Without the public key, the value shape alone is not trusted.
        let bare = format!("password = \"{value}\"\n");
        assert_eq!(find("x.ejson", bare.as_bytes()), None);
    }

    #[test]
    fn rails_encrypted_credentials() {
        let text = format!(
            "{}--{}--{}",
            random(71, B64, 300),
            random(72, B64, 16),
            random(73, B64, 22)
        );
        assert_eq!(
            find("config/credentials.yml.enc", text.as_bytes()),
            Some(Encrypted::Whole)
        );
        assert_eq!(find("config/credentials.yml", text.as_bytes()), None);
        assert_eq!(find("notes.enc", b"plain text, not ciphertext"), None);
    }

    #[test]
    fn malformed_input_does_not_panic() {
        for text in [
            &b"ENC[AES256_GCM,data:"[..],
            b"$ANSIBLE_VAULT;",
            b"$ANSIBLE_VAULT;1.2;AES256;",
            b"kind: SealedSecret\nencryptedData:",
            b"kind: SealedSecret\nencryptedData: {\"a\": \"",
            b"{\"sops\": {",
            b"sops:",
            b"[sops]",
            b"--",
        ] {
            let _ = find("x.enc", text);
            for cut in 0..text.len() {
                let _ = find("x.yml", &text[..cut]);
            }
        }
    }
}
