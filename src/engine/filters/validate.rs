//! Offline structural validators named by rules (`validate = "..."`): checksums, decodable
//! bodies, parseable URLs. A pass raises a match's confidence; a failure drops or downgrades it
//! as the rule's `on_invalid` says.

use base64::Engine as _;

/// A validator's judgement of one secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Structurally valid (a checksum or format check passed): raises confidence.
    Valid,
    /// Passes a plausibility filter only: confidence unchanged.
    Plausible,
    /// A literal, but a weak or test-looking one (`admin123`, `postgres`, a dictionary word)
    /// where the context says it is a credential: kept at low confidence whatever the rule's
    /// `on_invalid`, so `--min-confidence medium` drops it.
    Weak,
    /// Fails the format's check: the match is dropped or kept at low confidence, as the rule's
    /// `on_invalid` says.
    Invalid,
}

type Check = fn(&[u8]) -> Verdict;

const VALIDATORS: &[(&str, Check)] = &[
    ("base62-crc32", base62_crc32),
    ("jwt", jwt),
    ("discord-bot-token", discord_bot_token),
    ("pem-body", pem_body),
    ("aws-key-id", aws_key_id),
    ("url-credentials", url_credentials),
    ("base64", base64_decodes),
    ("hex", hex_digits),
    ("generic-secret", generic_secret),
    ("password", password),
    ("password-literal", password_literal),
    ("punctuated-secret", punctuated_secret),
];

pub(crate) fn is_known(name: &str) -> bool {
    VALIDATORS.iter().any(|(n, _)| *n == name)
}

/// The names a rule's `validate` may give, in table order.
pub fn names() -> impl Iterator<Item = &'static str> {
    VALIDATORS.iter().map(|(n, _)| *n)
}

pub(crate) fn run(name: &str, secret: &[u8]) -> Option<Verdict> {
    VALIDATORS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| f(secret))
}

fn verdict(ok: bool) -> Verdict {
    if ok { Verdict::Valid } else { Verdict::Invalid }
}

fn base62(mut n: u32, alphabet: &[u8; 62]) -> [u8; 6] {
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = alphabet[(n % 62) as usize];
        n /= 62;
    }
    out
}

const B62_UPPER_FIRST: &[u8; 62] =
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const B62_LOWER_FIRST: &[u8; 62] =
    b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// GitHub-style tokens (`ghp_`, `npm_`, ...): the last 6 characters are the base62 CRC32 of
/// the random body between the prefix's `_` and the checksum.
fn base62_crc32(token: &[u8]) -> Verdict {
    let Some(us) = token.iter().rposition(|&b| b == b'_') else {
        return Verdict::Invalid;
    };
    let body = &token[us + 1..];
    if body.len() < 7 || !body.iter().all(u8::is_ascii_alphanumeric) {
        return Verdict::Invalid;
    }
    let (random, check) = body.split_at(body.len() - 6);
    let crc = crc32fast::hash(random);
    let ok = [B62_UPPER_FIRST, B62_LOWER_FIRST]
        .iter()
        .any(|a| base62(crc, a) == check);
    verdict(ok)
}

fn b64_any(s: &[u8]) -> Option<Vec<u8>> {
    let trimmed: Vec<u8> = s
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace() && *b != b'\\')
        .collect();
    let t = trimmed
        .strip_suffix(b"==")
        .or_else(|| trimmed.strip_suffix(b"="))
        .unwrap_or(&trimmed);
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let std = base64::engine::general_purpose::STANDARD_NO_PAD;
    url.decode(t).ok().or_else(|| std.decode(t).ok())
}

/// JWT: header and payload decode to JSON objects, and the header names an algorithm.
/// Discord bot token: its first part is the bot's user id (a snowflake, 17 to 20 digits) in
/// base64.
fn discord_bot_token(token: &[u8]) -> Verdict {
    let id = token.split(|&b| b == b'.').next().unwrap_or_default();
    let digits = b64_any(id).filter(|d| (17..=20).contains(&d.len()));
    verdict(digits.is_some_and(|d| d.iter().all(u8::is_ascii_digit)))
}

fn jwt(token: &[u8]) -> Verdict {
    let mut parts = token.split(|&b| b == b'.');
    let (Some(h), Some(p)) = (parts.next(), parts.next()) else {
        return Verdict::Invalid;
    };
    let header = b64_any(h).and_then(|d| serde_json::from_slice::<serde_json::Value>(&d).ok());
    let payload = b64_any(p).and_then(|d| serde_json::from_slice::<serde_json::Value>(&d).ok());
    let ok = matches!(&header, Some(serde_json::Value::Object(m)) if m.contains_key("alg") || m.contains_key("typ"))
        && matches!(&payload, Some(serde_json::Value::Object(_)));
    // An `anon` role token (Supabase's anon key) is public by design: it ships in browser
    // code and grants only what row-level security allows anyone.
    let public = payload
        .as_ref()
        .and_then(|p| p.get("role"))
        .and_then(|r| r.as_str())
        == Some("anon");
    verdict(ok && !public)
}

/// PEM private key block: the body between the armour lines is base64 of a plausible size.
fn pem_body(block: &[u8]) -> Verdict {
    let text = String::from_utf8_lossy(block);
    let body: String = text
        .lines()
        .map(|l| l.trim().trim_matches(|c| c == '"' || c == '\'' || c == ','))
        .filter(|l| !l.starts_with("-----") && !l.contains(':'))
        .flat_map(|l| l.split("\\n"))
        .collect::<Vec<_>>()
        .join("");
    let body: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    if body.len() < 64 {
        return Verdict::Invalid;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .ok()
        .or_else(|| b64_any(body.as_bytes()));
    verdict(decoded.is_some_and(|d| d.len() >= 48))
}

/// AWS key ids: a known four-letter prefix and a base32 body.
fn aws_key_id(id: &[u8]) -> Verdict {
    const PREFIXES: &[&[u8]] = &[
        b"AKIA", b"ASIA", b"ABIA", b"ACCA", b"AGPA", b"AIDA", b"AROA", b"AIPA", b"ANPA", b"ANVA",
        b"APKA", b"ASCA", b"A3T",
    ];
    let ok = id.len() >= 16
        && PREFIXES.iter().any(|p| id.starts_with(p))
        && id[4..]
            .iter()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(b) || b.is_ascii_digit());
    verdict(ok)
}

/// A URL with credentials: scheme, user info with a non-empty password, and a host.
fn url_credentials(url: &[u8]) -> Verdict {
    let s = String::from_utf8_lossy(url);
    let Some((scheme, rest)) = s.split_once("://") else {
        return Verdict::Invalid;
    };
    let Some((userinfo, hostpart)) = rest.rsplit_once('@') else {
        return Verdict::Invalid;
    };
    let pass = userinfo.split_once(':').map(|(_, p)| p).unwrap_or("");
    let host = hostpart.split(['/', '?', '#']).next().unwrap_or("");
    let ok = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        && !pass.is_empty()
        && !host.is_empty()
        && !crate::engine::filters::placeholder::is_placeholder(pass.as_bytes())
        && password(pass.as_bytes()) != Verdict::Invalid;
    verdict(ok)
}

/// A password someone chose (in a connection URL or string): not a textbook word such as
/// `somepassword` or `admin123`, which documentation uses.
fn password(v: &[u8]) -> Verdict {
    if crate::engine::filters::placeholder::is_dummy_password(v) {
        Verdict::Invalid
    } else {
        Verdict::Plausible
    }
}

/// A value assigned to a secret-like name that is a literal secret rather than a reference,
/// a word, a path or a number.
fn generic_secret(v: &[u8]) -> Verdict {
    if classify(v) == Class::Literal {
        Verdict::Plausible
    } else {
        Verdict::Invalid
    }
}

/// A value in a place that only a password takes (a login call's password argument, the
/// default of a password variable, a password field of a form body): any literal is one.
/// References and code are dropped as `generic-secret` drops them; words, textbook and
/// short passwords are weak, not dropped (a `.pgpass`-style `admin` is still a password).
fn password_literal(v: &[u8]) -> Verdict {
    // Prose, URL-encoded (`++++THIS+IS+A+SECRET++++`): letters between `+` signs.
    let words = v.split(|&b| b == b'+').filter(|w| !w.is_empty());
    if v.iter().filter(|&&b| b == b'+').count() >= 2
        && !v.iter().any(u8::is_ascii_digit)
        && words.clone().count() >= 3
        && words.clone().all(|w| w.iter().all(u8::is_ascii_alphabetic))
    {
        return Verdict::Invalid;
    }
    // A password with dots (`N6.r7SvdPnhvD`) reads as a dotted reference (`cfg.db.password`)
    // to `classify`; but a part with a digit inside its letters is no identifier, and in a
    // place only a password takes such a value is one.
    if is_random_dotted(v) {
        return if v.len() < 8 || crate::engine::filters::placeholder::is_dummy_password(v) {
            Verdict::Weak
        } else {
            Verdict::Plausible
        };
    }
    match classify(v) {
        Class::Reference => Verdict::Invalid,
        Class::Weak => Verdict::Weak,
        Class::Literal => Verdict::Plausible,
    }
}

/// Dotted, made of characters passwords use, with a part that has a digit before a letter
/// (`r7SvdPnhvD`): identifiers carry digits at their end (`oauth2`, `s3`), if at all.
fn is_random_dotted(v: &[u8]) -> bool {
    v.contains(&b'.')
        && v.iter()
            .all(|b| b.is_ascii_alphanumeric() || b"._-!*#%^+=~".contains(b))
        && v.split(|&b| b == b'.').any(|part| {
            part.iter()
                .position(u8::is_ascii_digit)
                .is_some_and(|d| part[d..].iter().any(u8::is_ascii_alphabetic))
        })
}

/// What a candidate value assigned to a secret-like name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Code, a reference, a path, a number, a digest: not a secret.
    Reference,
    /// A literal, but a dictionary word, a textbook password or too short to be generated.
    Weak,
    Literal,
}

fn classify(v: &[u8]) -> Class {
    if is_reference(v) {
        Class::Reference
    } else if v.len() < 8 || is_word(v) || crate::engine::filters::placeholder::is_dummy_password(v)
    {
        Class::Weak
    } else {
        Class::Literal
    }
}

/// Code, a reference, a path, a number or a digest rather than a literal value.
fn is_reference(v: &[u8]) -> bool {
    let Some(&first) = v.first() else {
        return true;
    };
    // A leading `~` is a path only as `~/...`; passwords may start with it.
    if b"${<[(/\\".contains(&first) || [&b"./"[..], b"../", b"~/"].iter().any(|p| v.starts_with(p))
    {
        return true;
    }
    // YAML anchors, aliases and tags (`*default`, `!vault`), Windows `%VAR%` references.
    let word = |x: &[u8]| {
        !x.is_empty()
            && x.iter()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(b))
    };
    // A tag is a name (`!vault`, `!Ref`): `!AUtnMJ48Wbg` is a password that opens with `!`.
    let tag_name = |x: &[u8]| word(x) && !x.iter().any(u8::is_ascii_digit);
    if (b"&*".contains(&first) && word(&v[1..])) || (first == b'!' && tag_name(&v[1..])) {
        return true;
    }
    if first == b'%' && v.len() > 2 && v.ends_with(b"%") && word(&v[1..v.len() - 1]) {
        return true;
    }
    if v.contains(&b'(') || v.ends_with(b")") || memchr::memmem::find(v, b"://").is_some() {
        return true;
    }
    // Digests written with their algorithm (Vault audit HMACs, lockfile and image digests).
    let lower_v = v.to_ascii_lowercase();
    if [
        "hmac-sha", "sha1:", "sha256:", "sha384:", "sha512:", "sha256-", "sha384-", "sha512-",
        "md5:",
    ]
    .iter()
    .any(|p| lower_v.starts_with(p.as_bytes()))
    {
        return true;
    }
    // Index expressions and format strings are code, not values.
    if (v.contains(&b'[') && v.ends_with(b"]"))
        || [&b"%s"[..], b"%d", b"{}", b"{0}"]
            .iter()
            .any(|f| memchr::memmem::find(v, f).is_some())
        || (first == b'@' && v.ends_with(b"@"))
    {
        return true;
    }
    let s = String::from_utf8_lossy(v);
    let lower = s.to_ascii_lowercase();
    // Function names, config lookups and env references.
    for marker in [
        "getenv",
        "environ",
        "process.env",
        "os.env",
        "config.",
        "settings.",
        "secrets.",
        "vault:",
        "ssm:",
        "arn:aws",
        "self.",
        "this.",
        "params.",
        "args.",
        "env.",
        "keyvault",
        "secretsmanager",
        "none",
        "null",
        "undefined",
        "true",
        "false",
    ] {
        if lower.starts_with(marker) || (marker.len() > 6 && lower.contains(marker)) {
            return true;
        }
    }
    let is_ident = |seg: &str| {
        seg.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    // Substitutions inside a reference: `$1`, `$name`, and `tag-$1`.
    let is_part = |seg: &str| match seg.split_once('$') {
        None => is_ident(seg),
        Some((head, var)) => {
            (head.is_empty() || head.strip_suffix('-').is_some_and(is_ident))
                && !var.is_empty()
                && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
    };
    // Dotted references (`cfg.db.password`, `@brackets.directive` in tokenizer tables,
    // `string.$1.delim`) and SCREAMING_CASE variable names.
    let reference = s.strip_prefix('@').unwrap_or(&s);
    if reference.contains('.') && reference.split('.').all(is_part) {
        return true;
    }
    // The rest of a path in code (`PasswordError::InvalidCharacter`): the separator taken
    // was the first `:` of `::`.
    if s.strip_prefix(':')
        .is_some_and(|p| p.split("::").all(is_ident))
    {
        return true;
    }
    // Code between two strings, read as one when a closing quote was taken for an opening
    // one (minified `..."Unexpected token =",DuplicateBinding:"...`): the next key.
    if s.strip_prefix(',')
        .is_some_and(|p| is_ident(p.strip_suffix(':').unwrap_or(p)))
    {
        return true;
    }
    // A generic type in a declaration (`caching_sha2_password: AuthPluginDefinition<{`,
    // `token: Option<String>`): a capitalised name, then type syntax only.
    if let Some((name, args)) = s.split_once('<')
        && name.len() >= 3
        && name.starts_with(|c: char| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && args
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.<>{}[], |?:&".contains(c))
    {
        return true;
    }
    if s.contains('_')
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    {
        return true;
    }
    s.chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
}

/// Words and identifiers: letters (and `-_.` separators) without digits or symbols, all
/// lower case, or switching case as identifiers do rather than as random strings do.
fn is_word(v: &[u8]) -> bool {
    let has_digit = v.iter().any(u8::is_ascii_digit);
    let has_symbol = v
        .iter()
        .any(|&b| !b.is_ascii_alphanumeric() && !b"-_.".contains(&b));
    if has_digit || has_symbol {
        return false;
    }
    // Slugs and words: lowercase letters with separators.
    if !v.iter().any(u8::is_ascii_uppercase) {
        return true;
    }
    // Letters only: identifiers switch case rarely, random strings often.
    let letters: Vec<u8> = v.iter().copied().filter(u8::is_ascii_alphabetic).collect();
    if letters.len() < 12 {
        return true;
    }
    let switches = letters
        .windows(2)
        .filter(|w| w[0].is_ascii_uppercase() != w[1].is_ascii_uppercase())
        .count();
    (switches as f64) / (letters.len() as f64) < 0.35
}

/// A framework key or salt (WordPress `AUTH_KEY`, a Django `SECRET_KEY`): generated from
/// letters, digits and punctuation, so brackets, `$`, `%` and spaces that make other values
/// read as code or templating are part of it. Long, high in entropy, mixing character
/// classes with punctuation, and not prose or a template expression; weak if it spells a
/// textbook word.
fn punctuated_secret(v: &[u8]) -> Verdict {
    let s = String::from_utf8_lossy(v);
    if v.len() < 24 || crate::engine::filters::entropy::shannon(v) < 4.2 {
        return Verdict::Invalid;
    }
    let lower = v.iter().any(u8::is_ascii_lowercase);
    let upper_or_digit = v
        .iter()
        .any(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    let symbols = v
        .iter()
        .filter(|b| b.is_ascii_punctuation() && !b"-_.".contains(b))
        .count();
    // Prose, or a call or template with a few symbols: prose is words of letters (keys hold
    // spaces too: WordPress's 64-character keys often several).
    let prose = s
        .split_whitespace()
        .filter(|w| {
            w.chars()
                .all(|c| c.is_ascii_alphabetic() || ",.;:!?'\"()".contains(c))
        })
        .count()
        >= 3;
    let templating = ["${", "{{", "%s", "{}", "#{", "<%"]
        .iter()
        .any(|t| s.contains(t))
        && symbols < 6;
    // A call (`os.environ.get('SECRET_KEY')`, `get_random_secret_key()`) or a lookup.
    // A call starts with a name and ends with its closing parenthesis: `:(D...` and
    // `m(HQ...` open random keys.
    let call = s.trim_end().ends_with(')')
        && s.split_once('(').is_some_and(|(head, _)| {
            head.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && head
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.$:>-".contains(c))
        });
    let lower_s = s.to_ascii_lowercase();
    // Secret-manager references (`op://vault/item/field`, `vault://...`) and URLs.
    let lookup = [
        "getenv",
        "environ",
        "process.env",
        "env(",
        "env[",
        "config(",
        "://",
    ]
    .iter()
    .any(|m| lower_s.contains(m));
    if call || lookup {
        return Verdict::Invalid;
    }
    if !(lower && upper_or_digit && symbols >= 3 && !prose && !templating) {
        Verdict::Invalid
    } else if crate::engine::filters::placeholder::is_dummy_password(v) {
        // Django's `django-insecure-...` development keys among them.
        Verdict::Weak
    } else {
        Verdict::Plausible
    }
}

fn base64_decodes(s: &[u8]) -> Verdict {
    verdict(b64_any(s).is_some())
}

fn hex_digits(s: &[u8]) -> Verdict {
    verdict(!s.is_empty() && s.iter().all(u8::is_ascii_hexdigit))
}

/// Builds a GitHub-style token with a valid checksum (for tests and the corpus generator).
pub fn make_base62_crc32(prefix: &str, random: &str) -> String {
    let crc = crc32fast::hash(random.as_bytes());
    let check = base62(crc, B62_UPPER_FIRST);
    format!("{prefix}{random}{}", String::from_utf8_lossy(&check))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anon_role_jwts_are_public() {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let jwt = |payload: &str| {
            let h = URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
            let p = URL_SAFE_NO_PAD.encode(payload);
            format!("{h}.{p}.c2lnbmF0dXJlLWJ5dGVzLWhlcmU")
        };
        let anon =
            jwt(r#"{"iss":"supabase","ref":"qljiyqfqquwdtzka","role":"anon","iat":1700000000}"#);
        assert_eq!(run("jwt", anon.as_bytes()), Some(Verdict::Invalid));
        let service = jwt(r#"{"iss":"supabase","ref":"qljiyqfqquwdtzka","role":"service_role"}"#);
        assert_eq!(run("jwt", service.as_bytes()), Some(Verdict::Valid));
    }

    #[test]
    fn discord_bot_tokens_start_with_a_user_id() {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let id = URL_SAFE_NO_PAD.encode("1270088030351150807");
        let ok = format!("{id}.ROCuYb.juO_LZutkDi452DeUJRq9xkVemGNGvYLtoZdAJ");
        assert_eq!(discord_bot_token(ok.as_bytes()), Verdict::Valid);
        let word = URL_SAFE_NO_PAD.encode("not-a-snowflake-id!");
        let bad = format!("{word}.ROCuYb.juO_LZutkDi452DeUJRq9xkVemGNGvYLtoZdAJ");
        assert_eq!(discord_bot_token(bad.as_bytes()), Verdict::Invalid);
        let short = format!("{}.ROCuYb.x", URL_SAFE_NO_PAD.encode("1234"));
        assert_eq!(discord_bot_token(short.as_bytes()), Verdict::Invalid);
    }

    #[test]
    fn crc32_tokens() {
        let t = make_base62_crc32("ghp_", "Qm7xV2pLr9TzK4wHc8NbY3dFg6JsA1");
        assert_eq!(t.len(), 40);
        assert_eq!(base62_crc32(t.as_bytes()), Verdict::Valid);
        let mut bad = t.clone().into_bytes();
        bad[10] = if bad[10] == b'a' { b'b' } else { b'a' };
        assert_eq!(base62_crc32(&bad), Verdict::Invalid);
    }

    #[test]
    fn jwt_shape() {
        let good = b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJl";
        assert_eq!(jwt(good), Verdict::Valid);
        assert_eq!(
            jwt(b"eyJub3QiOiJqc29u.eyJzdWIiOiIxMjM0NSJ9.x"),
            Verdict::Invalid
        );
    }

    #[test]
    fn urls() {
        assert_eq!(
            url_credentials(b"postgres://app:Wq8zT2vLm9Xk@db.internal:5432/app"), // keywarden:allow
            Verdict::Valid
        );
        assert_eq!(
            url_credentials(b"postgres://app:${PASS}@db/app"),
            Verdict::Invalid
        );
        assert_eq!(
            url_credentials(b"https://example.com/a@b"),
            Verdict::Invalid
        );
    }

    #[test]
    fn generic_values() {
        for good in [
            "Zq8vT2mK9pL4xR7w",
            "k9#Tq2v-L@x!",
            "hQpLmWzRtYvBnKcXsDfG",
            "a8f5f167f44f4964e6c998dee827110c",
            "Xk9<Tz2!mQw7",
        ] {
            assert_eq!(
                generic_secret(good.as_bytes()),
                Verdict::Plausible,
                "{good}"
            );
        }
        for bad in [
            "settings.DB_PASSWORD",
            "DB_PASSWORD",
            "os.getenv('X')",
            "my-app-secret",
            "passwordField",
            "getPasswordFromConfig",
            "12345678901",
            "/etc/secret/path",
            "https://vault.local/x",
            "process.env.TOKEN",
            "*default_password",
            "%DB_PASSWORD%",
            "hmac-sha256:9f8c2b7e4d1a6f3c0b5e8d2a",
            "AuthPluginDefinition<{",
            ",DuplicateBinding:",
            "Record<string, SecretValue>",
        ] {
            assert_eq!(generic_secret(bad.as_bytes()), Verdict::Invalid, "{bad}");
        }
    }

    #[test]
    fn password_literals_are_weak_not_dropped() {
        for (v, want) in [
            ("Zq8vT2mK9pL4xR7w", Verdict::Plausible),
            ("k9#Tq2v-L@x!", Verdict::Plausible),
            ("admin123", Verdict::Weak),
            ("postgres", Verdict::Weak),
            ("hunter2", Verdict::Weak),
            ("P@ssw0rd!", Verdict::Weak),
            ("s3cr3tKey", Verdict::Weak),
            ("settings.DB_PASSWORD", Verdict::Invalid),
            ("DEFAULT_PASSWORD", Verdict::Invalid),
            ("${DB_PASSWORD}", Verdict::Invalid),
            ("%DB_PASSWORD%", Verdict::Invalid),
            ("12345678", Verdict::Invalid),
            ("null", Verdict::Invalid),
            ("++++THIS+IS+A+SECRET++++", Verdict::Invalid),
            ("Qx+vT9+mK/pL4w", Verdict::Plausible),
            ("N6.r7SvdPnhvD", Verdict::Plausible),
            ("!AUtnMJ48Wbg", Verdict::Plausible),
            ("!vault", Verdict::Invalid),
            ("_rBw8DG.U2Um_eu5PXs", Verdict::Plausible),
            ("x9q.k", Verdict::Weak),
            ("a1.b2", Verdict::Invalid),
            ("cfg.db.password", Verdict::Invalid),
            ("oauth2.client_secret", Verdict::Invalid),
            ("process.env.DB_PASSWORD2", Verdict::Invalid),
        ] {
            assert_eq!(password_literal(v.as_bytes()), want, "{v}");
        }
    }

    #[test]
    fn punctuated_keys() {
        for good in [
            "Ln=|5X;y{+gYcP0|-+.Vb<F|fI2H$b-+I7(ml{8+0}kOq%|X-O>&[h:zN#1T2/",
            "q9#v^2x(k@!m7r$w0z)lp+h&_t8e=5j*c3n%b4s",
            "7v?Kq )M;2x!Pz@8R#w{d5}L[f]&Y^c",
            ":(DSQpYJ+0g+B#xzLP. v50hw+1*!,P)Dw5.8Dc>E@S^<F%T5VTeDR](5h|UDUcE",
            "~B0F1 h:uiQ{a][gc#9Ar[9*C~P^W FqN:wTd-dz;I Iy/^gN<7lz1PL~m/fqM/P",
            "m(HQbJmc.`&_9RpZEb|Wm1|G3Xp!V6r/>Ky>QHpU65x78]eTO`-Gx@JO7UWJhC%U",
        ] {
            assert_eq!(
                punctuated_secret(good.as_bytes()),
                Verdict::Plausible,
                "{good}"
            );
        }
        let dev = "django-insecure-q9#v^2x(k@!m7r$w0z)lp+h&_t8e=5j*c3n%b4s";
        assert_eq!(punctuated_secret(dev.as_bytes()), Verdict::Weak);
        for bad in [
            "put your unique phrase here",
            "Hello (world), how are you today?",
            "${APP_SECRET_KEY:-}",
            "os.environ.get('SECRET_KEY')",
            "short!(x)",
            "This is a secret, don't tell anyone!",
            "op://bq25xfqpafelzdxwqu3mdq6rza/zsq3oitss3rbo4njqpjfd5r5cm/GITHUB_SECRET",
        ] {
            assert_eq!(punctuated_secret(bad.as_bytes()), Verdict::Invalid, "{bad}");
        }
    }

    #[test]
    fn aws_ids() {
        assert_eq!(aws_key_id(b"AKIAQWERTYUI2345ABCD"), Verdict::Valid);
        assert_eq!(aws_key_id(b"AKXAQWERTYUI2345ABCD"), Verdict::Invalid);
    }
}
