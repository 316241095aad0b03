//! A labelled corpus generator and scorer: realistic files with planted fake credentials (random
//! bodies in each provider's documented format), encoded variants, and decoys (documentation
//! example keys, placeholders, templating, hashes, UUIDs, public keys, minified code).
//! Used by the accuracy test (small scale, in CI) and `examples/corpus.rs` (any scale).
#![allow(dead_code)]

use base64::Engine as _;
use std::collections::BTreeMap;

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E3779B97F4A7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    /// Random string; no character repeats back to back, so no long runs.
    pub fn s(&mut self, alphabet: &str, n: usize) -> String {
        let chars: Vec<char> = alphabet.chars().collect();
        let mut out = String::with_capacity(n);
        let mut last = '\0';
        while out.len() < n {
            let c = chars[self.below(chars.len())];
            if c == last {
                continue;
            }
            out.push(c);
            last = c;
        }
        out
    }
}

pub const UP32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
pub const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub const URLSAFE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
pub const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
pub const HEX: &str = "0123456789abcdef";
pub const DIGITS: &str = "0123456789";
pub const LETTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
pub const PW: &str = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#%^*-_+=";

fn b64(s: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}
fn b64url(s: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

pub fn pem(r: &mut Rng, label: &str, body_len: usize, prefix: &str) -> String {
    let mut body = prefix.to_string();
    body.push_str(&r.s(B64, body_len - prefix.len()));
    let lines: Vec<String> = body
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----",
        lines.join("\n")
    )
}

fn jwt(r: &mut Rng) -> String {
    let h = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let p = b64url(
        format!(
            r#"{{"sub":"{}","name":"svc-{}","iat":{}}}"#,
            r.s(DIGITS, 8),
            r.s("abcdefghijklmnopqrstuvwxyz", 6),
            1_700_000_000 + r.below(50_000_000)
        )
        .as_bytes(),
    );
    format!("{h}.{p}.{}", r.s(URLSAFE, 43))
}

/// A credential kind: its family, its value generator, and the name a config would give it.
pub struct Kind {
    pub name: &'static str,
    pub family: &'static str,
    pub var: &'static str,
    pub make: fn(&mut Rng) -> String,
    /// Multi-line values (PEM) only go where multi-line text fits.
    pub multiline: bool,
}

macro_rules! kind {
    ($name:expr, $fam:expr, $var:expr, $f:expr) => {
        Kind {
            name: $name,
            family: $fam,
            var: $var,
            make: $f,
            multiline: false,
        }
    };
    ($name:expr, $fam:expr, $var:expr, $f:expr, multi) => {
        Kind {
            name: $name,
            family: $fam,
            var: $var,
            make: $f,
            multiline: true,
        }
    };
}

pub fn kinds() -> Vec<Kind> {
    vec![
        kind!(
            "aws-access-key-id",
            "aws",
            "AWS_ACCESS_KEY_ID",
            |r| format!("AKIA{}", r.s(UP32, 16))
        ),
        kind!(
            "aws-secret-access-key",
            "aws",
            "AWS_SECRET_ACCESS_KEY",
            |r| r.s(B64, 40)
        ),
        kind!("github-pat", "github", "GITHUB_TOKEN", |r| {
            keywarden::engine::filters::validate::make_base62_crc32("ghp_", &r.s(ALNUM, 30))
        }),
        kind!("github-oauth", "github", "GH_OAUTH_TOKEN", |r| {
            keywarden::engine::filters::validate::make_base62_crc32("gho_", &r.s(ALNUM, 30))
        }),
        kind!("github-fine-grained", "github", "GH_PAT", |r| format!(
            "github_pat_{}_{}",
            r.s(ALNUM, 22),
            r.s(ALNUM, 59)
        )),
        kind!("gitlab-pat", "gitlab", "GITLAB_TOKEN", |r| format!(
            "glpat-{}",
            r.s(URLSAFE, 20)
        )),
        kind!("slack-bot-token", "slack", "SLACK_BOT_TOKEN", |r| format!(
            "xoxb-{}-{}-{}",
            r.s(DIGITS, 12),
            r.s(DIGITS, 13),
            r.s(ALNUM, 24)
        )),
        kind!("slack-user-token", "slack", "SLACK_TOKEN", |r| format!(
            "xoxp-{}-{}-{}-{}",
            r.s(DIGITS, 12),
            r.s(DIGITS, 12),
            r.s(DIGITS, 13),
            r.s(HEX, 32)
        )),
        kind!("slack-webhook", "slack", "SLACK_WEBHOOK_URL", |r| format!(
            "https://hooks.slack.com/services/T{}/B{}/{}",
            r.s("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10),
            r.s("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10),
            r.s(ALNUM, 24)
        )),
        kind!(
            "stripe-live-secret",
            "stripe",
            "STRIPE_SECRET_KEY",
            |r| format!("sk_live_{}", r.s(ALNUM, 99))
        ),
        kind!(
            "stripe-restricted",
            "stripe",
            "STRIPE_API_KEY",
            |r| format!("rk_live_{}", r.s(ALNUM, 24))
        ),
        kind!(
            "openai-project-key",
            "openai",
            "OPENAI_API_KEY",
            |r| format!("sk-proj-{}T3BlbkFJ{}", r.s(URLSAFE, 74), r.s(URLSAFE, 74))
        ),
        kind!(
            "openai-legacy-key",
            "openai",
            "OPENAI_API_KEY",
            |r| format!("sk-{}T3BlbkFJ{}", r.s(ALNUM, 20), r.s(ALNUM, 20))
        ),
        kind!(
            "anthropic-key",
            "anthropic",
            "ANTHROPIC_API_KEY",
            |r| format!("sk-ant-api03-{}AA", r.s(URLSAFE, 93))
        ),
        kind!("huggingface-token", "huggingface", "HF_TOKEN", |r| format!(
            "hf_{}",
            r.s(LETTERS, 34)
        )),
        kind!("google-api-key", "gcp", "GOOGLE_API_KEY", |r| format!(
            "AIza{}",
            r.s(URLSAFE, 35)
        )),
        kind!(
            "gcp-oauth-secret",
            "gcp",
            "GOOGLE_CLIENT_SECRET",
            |r| format!("GOCSPX-{}", r.s(URLSAFE, 28))
        ),
        kind!("sendgrid-key", "sendgrid", "SENDGRID_API_KEY", |r| format!(
            "SG.{}.{}",
            r.s(URLSAFE, 22),
            r.s(URLSAFE, 43)
        )),
        kind!("twilio-api-key", "twilio", "TWILIO_API_KEY", |r| format!(
            "SK{}",
            r.s(HEX, 32)
        )),
        kind!("npm-token", "npm", "NPM_TOKEN", |r| {
            keywarden::engine::filters::validate::make_base62_crc32("npm_", &r.s(ALNUM, 30))
        }),
        kind!("pypi-token", "pypi", "PYPI_TOKEN", |r| format!(
            "pypi-AgEIcHlwaS5vcmc{}",
            r.s(URLSAFE, 120)
        )),
        kind!("docker-pat", "docker", "DOCKERHUB_TOKEN", |r| format!(
            "dckr_pat_{}",
            r.s(URLSAFE, 27)
        )),
        kind!(
            "digitalocean-pat",
            "digitalocean",
            "DIGITALOCEAN_TOKEN",
            |r| format!("dop_v1_{}", r.s(HEX, 64))
        ),
        kind!(
            "shopify-access-token",
            "shopify",
            "SHOPIFY_ACCESS_TOKEN",
            |r| format!("shpat_{}", r.s(HEX, 32))
        ),
        kind!(
            "mailchimp-key",
            "mailchimp",
            "MAILCHIMP_API_KEY",
            |r| format!("{}-us{}", r.s(HEX, 32), 1 + r.below(20))
        ),
        kind!("mailgun-key", "mailgun", "MAILGUN_API_KEY", |r| format!(
            "key-{}",
            r.s(HEX, 32)
        )),
        kind!(
            "discord-webhook",
            "discord",
            "DISCORD_WEBHOOK",
            |r| format!(
                "https://discord.com/api/webhooks/{}/{}",
                r.s(DIGITS, 18),
                r.s(URLSAFE, 68)
            )
        ),
        kind!(
            "telegram-bot-token",
            "telegram",
            "TELEGRAM_BOT_TOKEN",
            |r| format!("{}:AA{}", r.s("123456789", 10), r.s(URLSAFE, 33))
        ),
        kind!("jwt", "jwt", "AUTH_JWT", jwt),
        kind!(
            "postgres-url",
            "connection-string",
            "DATABASE_URL",
            |r| format!(
                "postgresql://app_{}:{}@db-{}.internal:5432/app",
                r.s("abcdefghijklmnopqrstuvwxyz", 5),
                r.s(ALNUM, 18),
                r.s(DIGITS, 2)
            )
        ),
        kind!(
            "mongodb-url",
            "connection-string",
            "MONGO_URI",
            |r| format!(
                "mongodb+srv://svc:{}@cluster0.{}.mongodb.net/prod?retryWrites=true",
                r.s(ALNUM, 16),
                r.s("abcdefghijklmnopqrstuvwxyz0123456789", 5)
            )
        ),
        kind!("redis-url", "connection-string", "REDIS_URL", |r| format!(
            "redis://default:{}@cache.internal:6379/0",
            r.s(ALNUM, 24)
        )),
        kind!("mysql-url", "connection-string", "MYSQL_URL", |r| format!(
            "mysql://root:{}@mysql.internal:3306/shop",
            r.s(ALNUM, 14)
        )),
        kind!("generic-password", "password", "DB_PASSWORD", |r| r
            .s(PW, 16)),
        kind!("generic-api-secret", "generic", "API_SECRET", |r| r
            .s(ALNUM, 32)),
        kind!("django-secret-key", "generic", "SECRET_KEY", |r| r
            .s("abcdefghijklmnopqrstuvwxyz0123456789!@#%^&*-_=+", 50)),
        kind!(
            "azure-storage-key",
            "azure",
            "AZURE_STORAGE_CONNECTION_STRING",
            |r| format!(
                "DefaultEndpointsProtocol=https;AccountName=st{};AccountKey={}==;EndpointSuffix=core.windows.net",
                r.s("abcdefghijklmnopqrstuvwxyz0123456789", 10),
                r.s(B64, 86)
            )
        ),
        kind!(
            "azure-ad-client-secret",
            "azure",
            "AZURE_CLIENT_SECRET",
            |r| format!(
                "{}{}Q~{}",
                r.s(ALNUM, 3),
                r.s(DIGITS, 1),
                r.s(
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~-",
                    34
                )
            )
        ),
        kind!("datadog-api-key", "datadog", "DD_API_KEY", |r| r.s(HEX, 32)),
        kind!("linear-key", "linear", "LINEAR_API_KEY", |r| format!(
            "lin_api_{}",
            r.s(ALNUM, 40)
        )),
        kind!("postman-key", "postman", "POSTMAN_API_KEY", |r| format!(
            "PMAK-{}-{}",
            r.s(HEX, 24),
            r.s(HEX, 34)
        )),
        kind!("grafana-sa-token", "grafana", "GRAFANA_TOKEN", |r| format!(
            "glsa_{}_{}",
            r.s(ALNUM, 32),
            r.s(HEX, 8)
        )),
        kind!(
            "newrelic-user-key",
            "newrelic",
            "NEW_RELIC_API_KEY",
            |r| format!("NRAK-{}", r.s("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 27))
        ),
        kind!("vault-token", "vault", "VAULT_TOKEN", |r| format!(
            "hvs.{}",
            r.s(URLSAFE, 24)
        )),
        kind!(
            "terraform-cloud-token",
            "terraform",
            "TFE_TOKEN",
            |r| format!("{}.atlasv1.{}", r.s(ALNUM, 14), r.s(ALNUM, 67))
        ),
        kind!(
            "databricks-token",
            "databricks",
            "DATABRICKS_TOKEN",
            |r| format!("dapi{}", r.s(HEX, 32))
        ),
        kind!("doppler-token", "doppler", "DOPPLER_TOKEN", |r| format!(
            "dp.pt.{}",
            r.s(ALNUM, 43)
        )),
        kind!(
            "pulumi-token",
            "pulumi",
            "PULUMI_ACCESS_TOKEN",
            |r| format!("pul-{}", r.s(HEX, 40))
        ),
        kind!(
            "square-token",
            "square",
            "SQUARE_ACCESS_TOKEN",
            |r| format!("EAAA{}", r.s(URLSAFE, 60))
        ),
        kind!(
            "braintree-token",
            "braintree",
            "BRAINTREE_ACCESS_TOKEN",
            |r| format!(
                "access_token$production${}${}",
                r.s("abcdefghijklmnopqrstuvwxyz0123456789", 16),
                r.s(HEX, 32)
            )
        ),
        kind!("age-secret-key", "private-key", "AGE_KEY", |r| format!(
            "AGE-SECRET-KEY-1{}",
            r.s("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58)
        )),
        kind!("groq-key", "groq", "GROQ_API_KEY", |r| format!(
            "gsk_{}",
            r.s(ALNUM, 52)
        )),
        kind!(
            "replicate-token",
            "replicate",
            "REPLICATE_API_TOKEN",
            |r| format!("r8_{}", r.s(ALNUM, 37))
        ),
        kind!(
            "sentry-user-token",
            "sentry",
            "SENTRY_AUTH_TOKEN",
            |r| format!("sntryu_{}", r.s(HEX, 64))
        ),
        kind!(
            "rsa-private-key",
            "private-key",
            "TLS_KEY",
            |r| pem(r, "RSA PRIVATE KEY", 1624, "MIIEpAIBAAKCAQEA"),
            multi
        ),
        kind!(
            "openssh-private-key",
            "private-key",
            "SSH_KEY",
            |r| pem(r, "OPENSSH PRIVATE KEY", 400, "b3BlbnNzaC1rZXktdjEAAAAA"),
            multi
        ),
        kind!(
            "ec-private-key",
            "private-key",
            "EC_KEY",
            |r| pem(r, "EC PRIVATE KEY", 160, "MHcCAQEEI"),
            multi
        ),
        kind!(
            "pkcs8-private-key",
            "private-key",
            "PRIVATE_KEY",
            |r| pem(r, "PRIVATE KEY", 1620, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"),
            multi
        ),
    ]
}

/// Values that look like secrets and are not: each must produce no finding.
pub fn decoys(r: &mut Rng) -> Vec<String> {
    vec![
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE".into(),
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        "STRIPE_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx".into(),
        format!("STRIPE_PUBLISHABLE_KEY=pk_live_{}", r.s(ALNUM, 24)),
        "OPENAI_API_KEY=<your-openai-api-key>".into(),
        "GITHUB_TOKEN=${{ secrets.GITHUB_TOKEN }}".into(),
        "password: \"{{ .Values.db.password }}\"".into(),
        "DB_PASSWORD=${DB_PASSWORD}".into(),
        "api_key = os.environ[\"API_KEY\"]".into(),
        "const token = process.env.SLACK_TOKEN;".into(),
        "password = get_password_from_vault(\"db/prod\")".into(),
        "SECRET_KEY = settings.SECRET_KEY".into(),
        "password: changeme".into(),
        "token_type: bearer".into(),
        format!("\"integrity\": \"sha512-{}==\"", r.s(B64, 86)),
        format!("commit = \"{}\"", r.s(HEX, 40)),
        format!("checksum: sha256:{}", r.s(HEX, 64)),
        format!("request_id = \"{}-{}-4{}-a{}-{}\"", r.s(HEX, 8), r.s(HEX, 4), r.s(HEX, 3), r.s(HEX, 3), r.s(HEX, 12)),
        format!("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ{} deploy@ci", r.s(B64, 300)),
        pem(r, "PUBLIC KEY", 392, "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A"),
        pem(r, "CERTIFICATE", 1200, "MIIDdzCCAl+gAwIBAgIE"),
        format!("var a=function(){{return{}.{}(e,t)}};", r.s(LETTERS, 24), r.s(LETTERS, 18)),
        "password_hash = \"$2b$12$KIXQJ3xV2r9.dummyhashvalueabcdefghijklmn\"".into(),
        "# Set GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx in your shell".into(),
        "MONGO_URI=mongodb://user:password@localhost:27017/db".into(),
        "DATABASE_URL=postgres://postgres:${POSTGRES_PASSWORD}@db:5432/app".into(),
        format!("image: registry.example.org/app@sha256:{}", r.s(HEX, 64)),
        format!("\"version\": \"{}.{}.{}\", \"resolved\": \"https://registry.npmjs.org/x/-/x-1.0.0.tgz\"", r.below(9), r.below(20), r.below(30)),
        "slack_webhook: https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX".into(),
        "AZURE_CLIENT_SECRET: \"<client-secret>\"".into(),
        "private_key: \"-----BEGIN RSA PRIVATE KEY-----\\n...\\n-----END RSA PRIVATE KEY-----\"".into(),
    ]
}

const FILLER: &[&str] = &[
    "import os",
    "from typing import Optional",
    "def handler(event, context):",
    "    return {\"statusCode\": 200}",
    "logger = logging.getLogger(__name__)",
    "const express = require('express');",
    "app.listen(process.env.PORT || 3000);",
    "  replicas: 3",
    "  image: nginx:1.25",
    "timeout_seconds = 30",
    "# Configuration for the service",
    "retries: 5",
    "[server]",
    "host = \"0.0.0.0\"",
    "LOG_LEVEL=info",
    "    if user is None:",
    "        raise ValueError(\"missing user\")",
    "}",
    "",
    "  - name: build",
    "    run: cargo build --release",
    "export PATH=\"$HOME/.cargo/bin:$PATH\"",
    "RUN apt-get update && apt-get install -y curl",
    "resource \"aws_s3_bucket\" \"logs\" {",
    "  bucket = \"company-logs\"",
    "<dependency><groupId>org.slf4j</groupId></dependency>",
];

pub struct Planted {
    pub path: String,
    pub line: usize,
    pub kind: String,
    pub family: String,
    pub encoded: Option<&'static str>,
}

#[derive(Default)]
pub struct Corpus {
    pub files: Vec<(String, String)>,
    pub planted: Vec<Planted>,
    pub decoy_lines: usize,
}

/// How a secret is written into a file of some type.
fn render(kind: &Kind, value: &str, ext: &str) -> String {
    match ext {
        "env" => format!("{}={}", kind.var, value),
        "yaml" => format!("  {}: \"{}\"", kind.var.to_ascii_lowercase(), value),
        "json" => format!("  \"{}\": \"{}\",", kind.var.to_ascii_lowercase(), value),
        "py" => format!("{} = \"{}\"", kind.var, value),
        "js" => format!("const {} = '{}';", to_camel(kind.var), value),
        "sh" => format!("export {}=\"{}\"", kind.var, value),
        "tf" => format!("  {} = \"{}\"", kind.var.to_ascii_lowercase(), value),
        "Dockerfile" => format!("ENV {}={}", kind.var, value),
        "properties" => format!(
            "app.{}={}",
            kind.var.to_ascii_lowercase().replace('_', "."),
            value
        ),
        "xml" => format!(
            "  <add key=\"{}\" value=\"{}\" />",
            to_camel(kind.var),
            value
        ),
        _ => format!("{}={}", kind.var, value),
    }
}

fn to_camel(s: &str) -> String {
    let mut out = String::new();
    for (i, part) in s.split('_').enumerate() {
        let p = part.to_ascii_lowercase();
        if i == 0 {
            out.push_str(&p);
        } else {
            let mut c = p.chars();
            if let Some(f) = c.next() {
                out.push(f.to_ascii_uppercase());
                out.extend(c);
            }
        }
    }
    out
}

const EXTS: &[&str] = &[
    "env",
    "yaml",
    "json",
    "py",
    "js",
    "sh",
    "tf",
    "Dockerfile",
    "properties",
    "xml",
];

pub fn generate(seed: u64, n_files: usize) -> Corpus {
    let mut r = Rng::new(seed);
    let kinds = kinds();
    let mut c = Corpus::default();
    for i in 0..n_files {
        let ext = *r.pick(EXTS);
        let path = if ext == "Dockerfile" {
            format!("svc{i}/Dockerfile")
        } else if ext == "env" {
            format!("svc{i}/.env")
        } else {
            format!("svc{i}/config_{i}.{ext}")
        };
        let mut lines: Vec<String> = Vec::new();
        let n_lines = 20 + r.below(60);
        for _ in 0..n_lines {
            lines.push(r.pick(FILLER).to_string());
            match r.below(12) {
                0 | 1 => {
                    let k = &kinds[r.below(kinds.len())];
                    let value = (k.make)(&mut r);
                    let (text, encoded) = if k.multiline {
                        match ext {
                            "json" => (
                                format!("  \"private_key\": \"{}\",", value.replace('\n', "\\n")),
                                Some("json-escape"),
                            ),
                            "yaml" => (
                                format!("  key: |\n    {}", value.replace('\n', "\n    ")),
                                None,
                            ),
                            _ => (value.clone(), None),
                        }
                    } else if r.below(4) == 0 {
                        // Names that say nothing about a secret: only the value's format can tell.
                        let neutral = match r.below(5) {
                            0 => format!("client = ServiceClient(\"{value}\")"),
                            1 => format!("  \"value\": \"{value}\","),
                            2 => format!(
                                "curl -H \"Authorization: Bearer {value}\" https://api.internal/v1/items"
                            ),
                            3 => format!("    - {value}"),
                            _ => format!("conn = connect(\"{value}\")"),
                        };
                        (neutral, None)
                    } else if ext == "yaml" && r.below(4) == 0 {
                        (
                            format!(
                                "  {}: {}",
                                k.var.to_ascii_lowercase(),
                                b64(render(k, &value, "env").as_bytes())
                            ),
                            Some("base64"),
                        )
                    } else {
                        (render(k, &value, ext), None)
                    };
                    // A YAML block scalar's key line precedes the value.
                    let line = lines.len() + 1 + usize::from(text.starts_with("  key: |"));
                    c.planted.push(Planted {
                        path: path.clone(),
                        line,
                        kind: k.name.to_string(),
                        family: k.family.to_string(),
                        encoded,
                    });
                    lines.extend(text.lines().map(String::from));
                }
                2 => {
                    let d = decoys(&mut r);
                    let pick = r.below(d.len());
                    lines.extend(d[pick].lines().map(String::from));
                    c.decoy_lines += 1;
                }
                _ => {}
            }
        }
        c.files.push((path, lines.join("\n") + "\n"));
    }
    c
}

#[derive(Default, Debug)]
pub struct Score {
    pub per_kind: BTreeMap<String, (usize, usize)>,
    pub per_family: BTreeMap<String, (usize, usize)>,
    pub true_positives: usize,
    pub false_positives: Vec<String>,
    pub planted: usize,
    pub found: usize,
}

impl Score {
    pub fn recall(&self) -> f64 {
        self.found as f64 / self.planted.max(1) as f64
    }
    pub fn precision(&self) -> f64 {
        let tp = self.true_positives as f64;
        tp / (tp + self.false_positives.len() as f64).max(1.0)
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

/// Scores findings given as (path, line, end_line, rule_id).
pub fn score(c: &Corpus, findings: &[(String, usize, usize, String)]) -> Score {
    let mut s = Score {
        planted: c.planted.len(),
        ..Default::default()
    };
    let mut hit = vec![false; c.planted.len()];
    for (path, line, end_line, rule) in findings {
        let mut matched = false;
        for (i, p) in c.planted.iter().enumerate() {
            if &p.path == path && p.line >= *line && p.line <= (*end_line).max(*line) {
                hit[i] = true;
                matched = true;
            }
        }
        if matched {
            s.true_positives += 1;
        } else {
            s.false_positives.push(format!("{path}:{line} {rule}"));
        }
    }
    for (i, p) in c.planted.iter().enumerate() {
        let e = s.per_kind.entry(p.kind.clone()).or_default();
        e.1 += 1;
        let f = s.per_family.entry(p.family.clone()).or_default();
        f.1 += 1;
        if hit[i] {
            e.0 += 1;
            f.0 += 1;
            s.found += 1;
        }
    }
    s
}
