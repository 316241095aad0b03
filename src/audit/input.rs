//! Opening inputs (files, `.gz`, stdin `-`, `FORMAT:FILE`), detecting their format from
//! content, and splitting JSON / JSONL / CSV into records with their line numbers, streaming.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::access::{self, AccessData, DocCtx, DocErrors};
use super::findings;
use super::inventory::{self, BadRecord};
use super::logs::{self, Pos};
use super::model::{Event, Item, Leak, Loc, Provider, Store};

/// What a file is for; detection only considers formats of its role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Secrets-manager exports, machine-credential lists and store settings (`--inventory`).
    Inventory,
    /// Audit logs (`--log`).
    Log,
    /// keywarden's own scan output (`--findings`).
    Findings,
    /// Access policies (`--policy-doc`): who may read which secrets.
    PolicyDoc,
}

/// One input format: its name (`FORMAT:FILE`), the signs that tell it from its first
/// bytes, where its records are, and the parser that reads them. A new provider is its
/// parser file plus one row of [`FORMATS`].
pub struct InputFormat {
    /// The name `FORMAT:FILE` and the reports use (`aws-secrets`, `cloudtrail`); unique in
    /// the table.
    pub name: &'static str,
    /// Top-level keys whose array holds the records (a document without them is one record).
    pub array_keys: &'static [&'static str],
    /// Whether the first bytes are this format. Rows of a role are tried in table order.
    detect: fn(&Sniff) -> bool,
    /// Looser signs, tried (in table order) only when no row's `detect` said yes, and never
    /// to keep another role's files out ([`Sniff::strict`]).
    fallback: Option<fn(&Sniff) -> bool>,
    /// How its records are read; the variant is the format's [`Role`].
    pub parser: Parser,
}

impl std::fmt::Debug for InputFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl PartialEq for InputFormat {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for InputFormat {}

/// A CSV row, as (lower-case header, value) pairs, to inventory items.
pub type CsvParser = fn(&[(String, String)], Loc) -> Result<Vec<Item>, String>;
/// One audit-log record to events, with their positions.
pub type LogParser = fn(&Value, &mut logs::State, Pos) -> Result<Vec<(Event, Pos)>, String>;
/// A whole access-policy text (and its file name) to grants; the error has its line.
pub type TextPolicyParser = fn(&str, &str, &mut AccessData) -> Result<(), (usize, String)>;

/// How a format's records become normalised data; the variant is the format's role.
#[derive(Clone, Copy)]
pub enum Parser {
    /// An inventory: each JSON record to items, and each CSV row for formats that come as
    /// CSV too.
    Inventory {
        /// One JSON record to items (none for a record that holds no secret).
        json: fn(&Value, Loc) -> Result<Vec<Item>, String>,
        /// One CSV row to items; None: the format comes as JSON only.
        csv: Option<CsvParser>,
    },
    /// An audit log of one provider. A record about nothing the audit looks at is counted
    /// in [`logs::State::unrelated`].
    Log {
        /// Whose log it is: the records about nothing audited are counted under it.
        provider: Provider,
        /// One record to events.
        parse: LogParser,
    },
    /// An export of a secrets manager's own settings (a Key Vault, a Vault server's audit
    /// devices), read with the inventories: each JSON record to stores.
    Store(fn(&Value, Loc) -> Result<Vec<Store>, String>),
    /// keywarden's own scan output, read whole: the leaks it holds.
    Findings(fn(&[u8], &str, &mut Vec<Leak>, &mut Vec<BadRecord>) -> Count),
    /// An access-policy export: each JSON document to grants and issues, and (for formats
    /// with a text syntax) the whole text (file name given) when it is not JSON.
    Access {
        /// One JSON document into the grants and issues.
        json: fn(&Value, &DocCtx, &mut AccessData) -> Result<(), DocErrors>,
        /// The whole text of a file that is not JSON (Vault's HCL); None: JSON only.
        text: Option<TextPolicyParser>,
    },
}

/// The first bytes of an input as detection sees them.
pub struct Sniff<'a> {
    /// The text, byte-order mark and leading blanks removed.
    pub t: &'a str,
    /// It starts like JSON (`{` or `[`).
    pub json: bool,
    /// Only signs no other role's files share count (keeping policy exports out of
    /// `--inventory`).
    pub strict: bool,
}

impl Sniff<'_> {
    fn key(&self, key: &str) -> bool {
        has_key(self.t, key)
    }

    fn has(&self, text: &str) -> bool {
        self.t.contains(text)
    }

    /// The lower-cased column names of a CSV header.
    fn columns(&self) -> Vec<String> {
        first_line(self.t)
            .to_ascii_lowercase()
            .split(',')
            .map(|c| c.trim().trim_matches('"').to_string())
            .collect()
    }
}

/// Vault policies in HCL: `path "secret/*" { capabilities = [...] }`.
fn vault_hcl(s: &Sniff) -> bool {
    let hcl = s.t.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("path ") || l.starts_with("path\t") || l.starts_with("path\"")
    });
    !s.json && hcl && (s.has("capabilities") || s.has("policy"))
}

fn k8s_rbac(s: &Sniff) -> bool {
    let kinds = [
        "Role",
        "ClusterRole",
        "RoleBinding",
        "ClusterRoleBinding",
        "List",
    ];
    s.json
        && (s.has("rbac.authorization.k8s.io")
            || (!s.strict
                && kinds.iter().any(|k| {
                    s.has(&format!("\"kind\": \"{k}\"")) || s.has(&format!("\"kind\":\"{k}\""))
                })))
}

/// `az keyvault show` output: a Key Vault resource with its properties. Its access policies
/// make it an access-policy export too, so `accessPolicies` alone is not a sign only
/// policy exports show.
fn key_vault_resource(s: &Sniff) -> bool {
    s.json
        && !s.key("principalId")
        && (s.key("vaultUri")
            || s.key("enableSoftDelete")
            || s.key("enablePurgeProtection")
            || s.has("Microsoft.KeyVault/vaults"))
}

/// Every input format, by role, each role's rows in the order detection tries them.
pub static FORMATS: [InputFormat; 24] = [
    // Inventories.
    InputFormat {
        name: "aws-secrets",
        array_keys: &["SecretList", "SecretValues"],
        detect: |s| {
            s.json && (s.key("SecretList") || (s.key("ARN") && s.has("arn:aws:secretsmanager")))
        },
        fallback: None,
        parser: Parser::Inventory {
            json: |v, loc| inventory::aws::secret(v, loc).map(|i| vec![i]),
            csv: None,
        },
    },
    InputFormat {
        name: "aws-iam-keys",
        array_keys: &["AccessKeyMetadata"],
        detect: |s| s.json && (s.key("AccessKeyMetadata") || s.key("AccessKeyId")),
        fallback: None,
        parser: Parser::Inventory {
            json: inventory::aws::access_keys,
            csv: None,
        },
    },
    InputFormat {
        name: "aws-credential-report",
        array_keys: &[],
        detect: |s| {
            if s.json {
                s.key("Content") && (s.key("ReportFormat") || s.key("GeneratedTime"))
            } else {
                first_line(s.t)
                    .to_ascii_lowercase()
                    .starts_with("user,arn,")
            }
        },
        fallback: None,
        parser: Parser::Inventory {
            json: inventory::aws::credential_report_json,
            csv: Some(inventory::aws::credential_row),
        },
    },
    InputFormat {
        name: "vault-kv",
        array_keys: &[],
        detect: |s| s.json && s.key("metadata") && s.key("path") && !s.key("apiVersion"),
        fallback: None,
        parser: Parser::Inventory {
            json: |v, loc| inventory::vault::kv_metadata(v, loc).map(|i| vec![i]),
            csv: None,
        },
    },
    InputFormat {
        name: "k8s-secrets",
        array_keys: &["items"],
        detect: |s| {
            s.json
                && (s.key("apiVersion") || (s.key("kind") && s.has("Secret") && s.key("metadata")))
        },
        fallback: None,
        parser: Parser::Inventory {
            json: inventory::k8s::secret,
            csv: None,
        },
    },
    InputFormat {
        name: "gcp-sa-keys",
        array_keys: &["keys"],
        detect: |s| {
            s.json
                && ((s.has("/serviceAccounts/") && s.has("/keys/"))
                    || (s.key("keyType") && s.key("validAfterTime")))
        },
        fallback: None,
        parser: Parser::Inventory {
            json: inventory::gcp_keys::key,
            csv: None,
        },
    },
    InputFormat {
        name: "azure-app-credentials",
        array_keys: &["value"],
        detect: |s| {
            s.json
                && (s.key("passwordCredentials")
                    || (s.key("keyId") && (s.key("endDateTime") || s.key("endDate"))))
        },
        fallback: None,
        parser: Parser::Inventory {
            json: inventory::azure_apps::credentials,
            csv: None,
        },
    },
    InputFormat {
        name: "azure-keyvault",
        array_keys: &["value"],
        detect: key_vault_resource,
        fallback: None,
        parser: Parser::Store(inventory::keyvault::vault),
    },
    InputFormat {
        name: "vault-audit-devices",
        array_keys: &[],
        // `vault audit list -format=json` prints `{}` when no device is enabled: among
        // inventories, a document that is only an empty object is that.
        detect: |s| {
            s.json
                && ((s.t.len() < 64 && s.t.split_whitespace().collect::<String>() == "{}")
                    || (s.key("options")
                        && s.key("type")
                        && s.key("path")
                        && (s.key("local") || s.key("description") || s.has("file_path"))))
        },
        fallback: None,
        parser: Parser::Store(inventory::vault_audit::devices),
    },
    InputFormat {
        name: "azure-secrets",
        array_keys: &["value"],
        detect: |s| {
            s.json && (s.has("vault.azure.net") || (s.key("attributes") && s.key("enabled")))
        },
        fallback: None,
        parser: Parser::Inventory {
            json: |v, loc| inventory::azure::secret_or_version(v, loc).map(|i| vec![i]),
            csv: None,
        },
    },
    InputFormat {
        name: "gcp-secrets",
        array_keys: &["secrets", "versions"],
        detect: |s| {
            s.json
                && s.has("/secrets/")
                && s.has("projects/")
                && (s.key("createTime") || s.key("replication"))
        },
        fallback: None,
        parser: Parser::Inventory {
            json: |v, loc| inventory::gcp::secret_or_version(v, loc).map(|i| vec![i]),
            csv: None,
        },
    },
    InputFormat {
        name: "generic",
        array_keys: &[],
        detect: |s| {
            if s.json {
                s.key("id")
            } else {
                s.columns().iter().any(|c| c == "id")
            }
        },
        fallback: None,
        parser: Parser::Inventory {
            json: |v, loc| inventory::generic::from_json(v, loc).map(|i| vec![i]),
            csv: Some(inventory::generic::from_row),
        },
    },
    // Audit logs.
    InputFormat {
        name: "gcp-audit",
        array_keys: &["entries"],
        detect: |s| s.json && s.key("protoPayload"),
        fallback: None,
        parser: Parser::Log {
            provider: Provider::Gcp,
            parse: |v, st, pos| st.events(logs::gcp::event(v).map(Vec::from_iter), pos),
        },
    },
    InputFormat {
        name: "azure-audit",
        array_keys: &["records", "value"],
        detect: |s| {
            s.json
                && s.key("operationName")
                && (s.key("resultSignature") || s.has("AuditEvent") || s.has("vault.azure.net"))
        },
        // Blob exports and Log Analytics rows without the signs above.
        fallback: Some(|s| {
            s.json
                && (s.key("records")
                    || (s.key("OperationName") && (s.key("id_s") || s.has("VAULTS"))))
        }),
        parser: Parser::Log {
            provider: Provider::Azure,
            parse: |v, st, pos| st.events(logs::azure::event(v).map(Vec::from_iter), pos),
        },
    },
    InputFormat {
        name: "cloudtrail",
        array_keys: &["Records", "Events"],
        detect: |s| {
            s.json
                && (s.key("Records")
                    || s.key("eventVersion")
                    || s.key("eventSource")
                    || s.key("CloudTrailEvent")
                    || s.has("via CloudTrail"))
        },
        fallback: None,
        parser: Parser::Log {
            provider: Provider::Aws,
            parse: |v, st, pos| {
                let events = logs::cloudtrail::events(v, &st.machine.workload_cidrs);
                st.events(events, pos)
            },
        },
    },
    InputFormat {
        name: "vault-audit",
        array_keys: &[],
        detect: |s| s.json && s.key("request") && (s.key("type") || s.key("auth")),
        fallback: None,
        parser: Parser::Log {
            provider: Provider::Vault,
            parse: logs::vault::event,
        },
    },
    // keywarden's scan output.
    InputFormat {
        name: "keywarden-sarif",
        array_keys: &[],
        detect: |s| s.json && s.key("runs") && (s.has("sarif") || s.key("version")),
        fallback: None,
        parser: Parser::Findings(findings::parse_sarif),
    },
    InputFormat {
        name: "keywarden-json",
        array_keys: &["findings"],
        detect: |s| s.json && (s.has("keywarden/scan") || s.key("rule_id") || s.key("findings")),
        fallback: None,
        parser: Parser::Findings(findings::parse_json),
    },
    // Access policies: each provider's export is told by keys only it uses.
    InputFormat {
        name: "aws-iam-auth",
        array_keys: &[],
        detect: |s| {
            s.json
                && (s.key("UserDetailList")
                    || s.key("RoleDetailList")
                    || s.key("GroupDetailList")
                    || s.key("PolicyVersionList"))
        },
        fallback: None,
        parser: Parser::Access {
            json: access::aws::authorization_details,
            text: None,
        },
    },
    InputFormat {
        name: "aws-secret-policy",
        array_keys: &[],
        detect: |s| s.json && s.key("ResourcePolicy"),
        // A bare policy document.
        fallback: Some(|s| s.json && s.key("Statement")),
        parser: Parser::Access {
            json: access::aws::resource_policy,
            text: None,
        },
    },
    InputFormat {
        name: "k8s-rbac",
        array_keys: &["items"],
        detect: k8s_rbac,
        fallback: None,
        parser: Parser::Access {
            json: access::k8s::objects,
            text: None,
        },
    },
    InputFormat {
        name: "gcp-iam",
        array_keys: &["bindings", "results"],
        detect: |s| s.json && s.key("bindings") && (s.key("members") || s.key("etag")),
        fallback: None,
        parser: Parser::Access {
            json: access::gcp::policy,
            text: None,
        },
    },
    InputFormat {
        name: "azure-access",
        array_keys: &[],
        detect: |s| {
            s.json
                && ((s.key("accessPolicies") && !(s.strict && key_vault_resource(s)))
                    || (s.key("principalId")
                        && (s.key("roleDefinitionName") || s.key("roleDefinitionId"))))
        },
        fallback: None,
        parser: Parser::Access {
            json: access::azure::doc,
            text: None,
        },
    },
    InputFormat {
        name: "vault-policy",
        array_keys: &[],
        detect: vault_hcl,
        // `{"policy": …}`, `sys/policy` reads, JSON-syntax policies and what attaches them.
        fallback: Some(|s| {
            s.json
                && (s.key("policy")
                    || s.key("rules")
                    || s.key("token_policies")
                    || s.key("policies")
                    || s.key("path"))
        }),
        parser: Parser::Access {
            json: access::vault::json_doc,
            text: Some(access::vault::hcl_file),
        },
    },
];

impl InputFormat {
    /// Every format, in table order.
    pub fn all() -> impl Iterator<Item = &'static InputFormat> {
        FORMATS.iter()
    }

    /// The name `FORMAT:FILE` and the reports use.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The format `FORMAT:FILE` names; None when no row of [`FORMATS`] has that name.
    pub fn from_name(s: &str) -> Option<&'static InputFormat> {
        FORMATS.iter().find(|f| f.name == s)
    }

    /// Which flag takes its files, told by its parser.
    pub fn role(&self) -> Role {
        match self.parser {
            Parser::Inventory { .. } | Parser::Store(_) => Role::Inventory,
            Parser::Log { .. } => Role::Log,
            Parser::Findings(_) => Role::Findings,
            Parser::Access { .. } => Role::PolicyDoc,
        }
    }

    /// Top-level keys whose array holds the records, for [`json_records`].
    pub fn array_keys(&self) -> &'static [&'static str] {
        self.array_keys
    }
}

/// `FORMAT:FILE` or `FILE`; the prefix only counts when it names a known format, so paths
/// with colons still work.
#[derive(Debug, Clone)]
pub struct InputSpec {
    /// The file, `-` for standard input, without the `FORMAT:` prefix.
    pub path: String,
    /// The format the prefix names; None: it is detected from the content.
    pub format: Option<&'static InputFormat>,
}

impl InputSpec {
    /// Splits off a `FORMAT:` prefix. A prefix that looks like a format name (lower-case
    /// letters and dashes) but names none is an error, unless the whole argument is a file
    /// that exists.
    pub fn parse(arg: &str) -> Result<InputSpec> {
        if let Some((pre, rest)) = arg.split_once(':') {
            if let Some(f) = InputFormat::from_name(pre) {
                return Ok(InputSpec {
                    path: rest.to_string(),
                    format: Some(f),
                });
            }
            if pre.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                && pre.len() > 2
                && !rest.starts_with('/')
                && !rest.starts_with('\\')
            {
                let names: Vec<_> = InputFormat::all().map(|f| f.name).collect();
                if !std::path::Path::new(arg).exists() {
                    bail!(
                        "unknown format {pre:?} in {arg:?} (known: {})",
                        names.join(", ")
                    );
                }
            }
        }
        Ok(InputSpec {
            path: arg.to_string(),
            format: None,
        })
    }

    /// Name used in reports and SARIF artifact locations.
    pub fn display(&self) -> String {
        if self.path == "-" {
            "stdin".to_string()
        } else {
            self.path.clone()
        }
    }
}

/// The stream parsers read: gzip already undone, UTF-16 already UTF-8.
pub type Reader = BufReader<Box<dyn Read>>;

const PREFIX_LEN: usize = 16 * 1024;

/// An opened input: the reader (from the start), its first bytes for detection, and the
/// error met while reading them, if any (then the reader ends with that error).
pub struct Opened {
    /// The whole content, the prefix included.
    pub reader: Reader,
    /// The first bytes of the content (up to 16 KiB; fewer only when that is all of it or
    /// reading failed).
    pub prefix: Vec<u8>,
    /// The error that stopped the reading of the prefix; None: no error.
    pub read_error: Option<String>,
}

/// Opens a file (or stdin), decompresses gzip by its magic bytes, and returns the reader
/// plus the first bytes of content for detection.
pub fn open(path: &str) -> Result<Opened> {
    let raw: Box<dyn Read> = if path == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path).with_context(|| format!("cannot open {path}"))?)
    };
    open_reader(raw).with_context(|| format!("cannot read {path}"))
}

/// [`open`] for any byte stream (the fuzz targets' inputs). Fails only when the very first
/// read does; a later read error is kept in [`Opened::read_error`] and replayed by the
/// reader.
pub fn open_reader(raw: Box<dyn Read>) -> Result<Opened> {
    let mut br = BufReader::with_capacity(256 * 1024, raw);
    let magic = br.fill_buf()?;
    let inner: Box<dyn Read> = if magic.len() >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
        Box::new(flate2::read::MultiGzDecoder::new(br))
    } else {
        Box::new(br)
    };
    // UTF-16 (Windows PowerShell's `>`), compressed or not, is read as UTF-8 from here on.
    let mut sniff = BufReader::with_capacity(64 * 1024, inner);
    let mut inner: Box<dyn Read> = match sniff.fill_buf() {
        // Replayed as the read error of the first bytes (a corrupt `.gz`).
        Err(e) => Box::new(FailedRead(Some(e))),
        Ok(h) => match super::utf16::detect(h) {
            Some(big_endian) => Box::new(super::utf16::Utf16Reader::new(sniff, big_endian)),
            None => Box::new(sniff),
        },
    };
    let mut prefix = Vec::with_capacity(PREFIX_LEN);
    // A read error inside the first bytes (a truncated or corrupt `.gz`) must not lose the
    // bytes read so far, nor abort the run: the error is replayed to the parser after the
    // prefix, which reports the input as partial.
    let mut failed = None;
    let mut chunk = [0u8; 8192];
    while prefix.len() < PREFIX_LEN {
        let want = chunk.len().min(PREFIX_LEN - prefix.len());
        match inner.read(&mut chunk[..want]) {
            Ok(0) => break,
            Ok(n) => prefix.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    let read_error = failed.as_ref().map(|e| e.to_string());
    let rest: Box<dyn Read> = match failed {
        Some(e) => Box::new(FailedRead(Some(e))),
        None => inner,
    };
    let chained: Box<dyn Read> = Box::new(Cursor::new(prefix.clone()).chain(rest));
    Ok(Opened {
        reader: BufReader::with_capacity(256 * 1024, chained),
        prefix,
        read_error,
    })
}

/// Replays a read error met while taking the prefix.
struct FailedRead(Option<io::Error>);

impl Read for FailedRead {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        match self.0.take() {
            Some(e) => Err(e),
            None => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "input ended early",
            )),
        }
    }
}

/// Whether the prefix is the whole content (it is shorter than the prefix size).
pub fn prefix_is_whole(prefix: &[u8]) -> bool {
    prefix.len() < PREFIX_LEN
}

/// Pagination fields that may sit next to an empty list.
const PAGE_KEYS: [&str; 4] = ["NextToken", "nextPageToken", "nextLink", "@odata.nextLink"];

/// Whether `prefix` (the whole content) is an export with nothing in it: only whitespace, or
/// JSON documents that are `[]` or objects whose record lists (`{"Events": []}`,
/// `{"SecretList": []}`, …) are all empty. `gcloud`/`az` print `[]` when there is nothing to
/// list, and a shell loop over no secrets writes nothing: that is zero records, not an
/// unknown format.
pub fn is_empty_export(prefix: &[u8], role: Role) -> bool {
    if !prefix_is_whole(prefix) {
        return false;
    }
    let body = prefix
        .strip_prefix(b"\xef\xbb\xbf".as_slice())
        .unwrap_or(prefix);
    let keys: Vec<&str> = InputFormat::all()
        .filter(|f| f.role() == role)
        .flat_map(|f| f.array_keys().iter().copied())
        .collect();
    let mut docs = serde_json::Deserializer::from_slice(body).into_iter::<Value>();
    docs.all(|d| match d {
        Ok(Value::Array(a)) => a.is_empty(),
        Ok(Value::Object(m)) => {
            m.iter()
                .any(|(k, v)| keys.contains(&k.as_str()) && v.as_array().is_some_and(Vec::is_empty))
                && m.iter().all(|(k, v)| {
                    PAGE_KEYS.contains(&k.as_str())
                        || (keys.contains(&k.as_str()) && v.as_array().is_some_and(Vec::is_empty))
                })
        }
        _ => false,
    })
}

/// A CloudTrail digest file (`*-Digest*.json.gz`, delivered next to the logs under
/// `AWSLogs/…/CloudTrail-Digest/`): hashes of log files, no events.
pub fn is_cloudtrail_digest(prefix: &[u8]) -> bool {
    let text = String::from_utf8_lossy(prefix);
    has_key(&text, "digestStartTime") || has_key(&text, "digestS3Object")
}

fn has_key(text: &str, key: &str) -> bool {
    text.contains(&format!("\"{key}\""))
}

fn first_line(text: &str) -> &str {
    text.lines()
        .next()
        .unwrap_or("")
        .trim_start_matches('\u{feff}')
        .trim()
}

/// Detects the format of a file of the given role from its first bytes.
pub fn detect(prefix: &[u8], role: Role) -> Option<&'static InputFormat> {
    let text = String::from_utf8_lossy(prefix);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    let json = t.starts_with('{') || t.starts_with('[');
    let sniff = Sniff {
        t,
        json,
        strict: false,
    };
    // Audit logs and scan output carry keys the loose signs of policy exports and
    // inventories accept (`policy`, `id`); an access policy is never an inventory.
    let other = |r: Role| detect(prefix, r).is_some();
    let excluded = json
        && match role {
            Role::PolicyDoc => other(Role::Log) || other(Role::Findings),
            Role::Inventory => {
                other(Role::Log)
                    || other(Role::Findings)
                    || first_match(
                        Role::PolicyDoc,
                        &Sniff {
                            strict: true,
                            ..sniff
                        },
                    )
                    .is_some()
            }
            Role::Log | Role::Findings => false,
        };
    if excluded {
        return None;
    }
    first_match(role, &sniff)
}

/// The first row of `role` whose signs `s` shows: `detect`, then (unless strict) `fallback`.
fn first_match(role: Role, s: &Sniff) -> Option<&'static InputFormat> {
    let rows = || InputFormat::all().filter(move |f| f.role() == role);
    rows().find(|f| (f.detect)(s)).or_else(|| {
        if s.strict {
            return None;
        }
        rows().find(|f| f.fallback.is_some_and(|fb| fb(s)))
    })
}

/// One record cut out of an input, or the reason it could not be read.
pub enum Record {
    /// A JSON value read whole.
    Ok {
        /// The record.
        value: Value,
        /// The line it starts on (1-based).
        line: usize,
        /// Bytes that are not UTF-8 were replaced by U+FFFD to read it (the record is kept).
        lossy: bool,
    },
    /// A record that could not be read (damaged JSON, an over-long line); the records after
    /// it still are.
    Bad {
        /// The line it starts on (1-based).
        line: usize,
        /// What is wrong with it.
        error: String,
    },
    /// The input ended inside a value, or reading it failed: what follows was never seen,
    /// so the audit of this input is partial.
    Truncated {
        /// The line where reading stopped (1-based; 0 when not even the first line was read).
        line: usize,
        /// Why it stopped.
        error: String,
    },
}

/// What was read of one input: its records, and whether it could not be read to its end
/// (then the audit of it is partial).
#[derive(Debug, Clone, Copy, Default)]
pub struct Count {
    /// Records met, read or bad (a truncation is not one).
    pub records: usize,
    /// The input could not be read to its end.
    pub partial: bool,
}

/// Multi-line documents met in JSON Lines are buffered up to this size (so a damaged line
/// can still be told from a document and the lines after it recovered); a longer one is
/// streamed by the [`RecordSplitter`] instead.
const DOC_BUFFER: usize = 1 << 20;

/// Parses `t` as a sequence of whole JSON values (`[]`, `[] []`, `{..}{..}`): serde_json's
/// `StreamDeserializer`, so documents concatenated on one line are all read.
fn whole_values(t: &[u8]) -> Result<Vec<Value>, serde_json::Error> {
    whole_values_lossy(t).map(|(v, _)| v)
}

/// [`whole_values`], reading bytes that are not UTF-8 (one Latin-1 byte in a description)
/// as U+FFFD rather than losing the record; the flag says it happened.
fn whole_values_lossy(t: &[u8]) -> Result<(Vec<Value>, bool), serde_json::Error> {
    let strict = serde_json::Deserializer::from_slice(t)
        .into_iter::<Value>()
        .collect::<Result<Vec<_>, _>>();
    match strict {
        Err(e) if std::str::from_utf8(t).is_err() => {
            let text = String::from_utf8_lossy(t);
            match serde_json::Deserializer::from_str(&text)
                .into_iter::<Value>()
                .collect::<Result<Vec<_>, _>>()
            {
                Ok(v) => Ok((v, true)),
                Err(_) => Err(e),
            }
        }
        other => other.map(|v| (v, false)),
    }
}

/// One JSON value, lossily as [`whole_values_lossy`].
fn one_value_lossy(t: &[u8]) -> Result<(Value, bool), serde_json::Error> {
    match serde_json::from_slice::<Value>(t) {
        Err(e) if std::str::from_utf8(t).is_err() => {
            match serde_json::from_str::<Value>(&String::from_utf8_lossy(t)) {
                Ok(v) => Ok((v, true)),
                Err(_) => Err(e),
            }
        }
        other => other.map(|v| (v, false)),
    }
}

/// Nesting of a JSON text fed line by line (strings cannot span lines in JSON).
#[derive(Default)]
struct Nesting {
    depth: i64,
    in_str: bool,
    esc: bool,
}

impl Nesting {
    fn feed(&mut self, line: &[u8]) {
        for &b in line {
            if self.in_str {
                if self.esc {
                    self.esc = false;
                } else if b == b'\\' {
                    self.esc = true;
                } else if b == b'"' {
                    self.in_str = false;
                }
                continue;
            }
            match b {
                b'"' => self.in_str = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => self.depth -= 1,
                _ => {}
            }
        }
    }
}

/// A multi-line document being collected in JSON Lines mode.
struct PendingDoc {
    start: usize,
    buf: Vec<u8>,
    nest: Nesting,
}

/// Largest single record accepted: bounds memory on hostile input.
pub const MAX_RECORD: usize = 64 * 1024 * 1024;

/// Streams the records of a JSON input: JSON Lines (each line a value), or documents
/// (pretty-printed or concatenated). A top-level array, or an object's array under one of
/// `keys`, yields its elements; any other value is itself one record. Never holds more than
/// one record in memory (plus at most [`DOC_BUFFER`] of a document met among JSON Lines).
/// A read error (truncated `.gz`) ends the input with a [`Record::Truncated`], not an error,
/// so the records before it still count and the run goes on.
pub fn json_records<R: BufRead>(
    mut reader: R,
    keys: &[&str],
    f: &mut dyn FnMut(Record),
) -> io::Result<()> {
    let mut line = 0usize;
    if let Err(e) = json_records_inner(&mut reader, keys, f, &mut line) {
        f(Record::Truncated {
            line,
            error: format!("input could not be read to the end: {e}"),
        });
    }
    Ok(())
}

fn json_records_inner<R: BufRead>(
    reader: &mut R,
    keys: &[&str],
    f: &mut dyn FnMut(Record),
    line: &mut usize,
) -> io::Result<()> {
    // JSON Lines when the first non-empty line is complete: one or more whole values.
    let mut first = Vec::new();
    let mut skipped_lines = 0usize;
    loop {
        first.clear();
        let n = read_line_capped(reader, &mut first, MAX_RECORD)?;
        if n == 0 {
            return Ok(());
        }
        if first.iter().all(|b| b.is_ascii_whitespace()) {
            skipped_lines += 1;
            continue;
        }
        break;
    }
    *line = skipped_lines + 1;
    // Drop a byte-order mark, keeping the newline (the splitter counts lines from it).
    let lead = first
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    if first[lead..].starts_with(b"\xef\xbb\xbf") {
        first.drain(lead..lead + 3);
    }
    if first.len() < MAX_RECORD && whole_values(trim_ws(&first)).is_ok() {
        return json_lines(reader, first, keys, f, line);
    }
    let mut scanner = RecordSplitter::new(keys, skipped_lines + 1);
    scanner.feed(&first, f);
    stream_rest(reader, &mut scanner, f, line)
}

/// Feeds the rest of `reader` to the splitter (documents, streamed).
fn stream_rest<R: BufRead>(
    reader: &mut R,
    scanner: &mut RecordSplitter<'_>,
    f: &mut dyn FnMut(Record),
    line: &mut usize,
) -> io::Result<()> {
    loop {
        *line = scanner.line;
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        let n = chunk.len();
        scanner.feed(chunk, f);
        reader.consume(n);
    }
    scanner.finish(f);
    Ok(())
}

/// JSON Lines, tolerant of documents among them: `gcloud … versions list` in a shell loop
/// writes `[]` (one line) then pretty-printed arrays, so a line that starts a value it does
/// not finish begins a multi-line document, collected until its brackets close. If it then
/// does not parse, its first line is reported and the following lines are read again one by
/// one, so one damaged line does not swallow the valid lines after it.
fn json_lines<R: BufRead>(
    reader: &mut R,
    first: Vec<u8>,
    keys: &[&str],
    f: &mut dyn FnMut(Record),
    line: &mut usize,
) -> io::Result<()> {
    let mut pending: std::collections::VecDeque<(usize, Vec<u8>)> =
        std::collections::VecDeque::from([(*line, first)]);
    let mut next = *line + 1;
    let mut doc: Option<PendingDoc> = None;
    loop {
        let (ln, buf) = match pending.pop_front() {
            Some(x) => x,
            None => {
                let mut buf = Vec::new();
                let n = read_line_capped(reader, &mut buf, MAX_RECORD)?;
                if n == 0 {
                    break;
                }
                let ln = next;
                next += 1;
                *line = ln;
                if doc.is_none() && buf.len() >= MAX_RECORD && !buf.ends_with(b"\n") {
                    f(Record::Bad {
                        line: ln,
                        error: format!("line longer than {MAX_RECORD} bytes skipped"),
                    });
                    skip_to_newline(reader)?;
                    continue;
                }
                (ln, buf)
            }
        };
        if let Some(d) = doc.as_mut() {
            d.buf.extend_from_slice(&buf);
            d.nest.feed(&buf);
            if (d.nest.in_str && buf.ends_with(b"\n")) || d.nest.depth < 0 {
                // A string cannot span lines, nor can brackets close more than they opened.
                let d = doc.take().expect("doc");
                fail_doc(d, None, &mut pending, f);
            } else if d.nest.depth == 0 {
                let d = doc.take().expect("doc");
                match whole_values(trim_ws(&d.buf)) {
                    Ok(_) => {
                        // Parsed once more by the splitter, for each element's own line.
                        let mut sp = RecordSplitter::new(keys, d.start);
                        sp.feed(&d.buf, f);
                        sp.finish(f);
                    }
                    Err(e) => fail_doc(d, Some(e), &mut pending, f),
                }
            } else if d.buf.len() > DOC_BUFFER {
                // Too long to be a damaged line: a real document (a large `{"Records":…}`
                // after a `[]` line). Stream it, and whatever follows, with the splitter.
                let d = doc.take().expect("doc");
                let mut sp = RecordSplitter::new(keys, d.start);
                sp.feed(&d.buf, f);
                for (_, l) in pending.drain(..) {
                    sp.feed(&l, f);
                }
                return stream_rest(reader, &mut sp, f, line);
            }
            continue;
        }
        let t = trim_ws(&buf);
        if t.is_empty() {
            continue;
        }
        match whole_values_lossy(t) {
            Ok((values, lossy)) => {
                for v in values {
                    emit_value(v, ln, lossy, keys, f);
                }
            }
            // The last line, without its newline, ends inside a value: the input was cut.
            Err(e) if e.is_eof() && !buf.ends_with(b"\n") => f(Record::Truncated {
                line: ln,
                error: format!("truncated JSON at end of input: {e}"),
            }),
            Err(e) if e.is_eof() && matches!(t.first(), Some(b'{' | b'[')) => {
                let mut nest = Nesting::default();
                nest.feed(&buf);
                if nest.in_str {
                    f(Record::Bad {
                        line: ln,
                        error: format!("invalid JSON: {e}"),
                    });
                } else {
                    doc = Some(PendingDoc {
                        start: ln,
                        buf,
                        nest,
                    });
                }
            }
            Err(e) => f(Record::Bad {
                line: ln,
                error: format!("invalid JSON: {e}"),
            }),
        }
    }
    if let Some(d) = doc {
        // The input ended inside a value: truncated. If every line after its first is a
        // whole value by itself, that first line was a damaged line among JSON Lines: read
        // the rest again.
        let start = d.start;
        let rest = following_lines(&d);
        if !rest.is_empty()
            && rest.iter().all(|(_, l)| {
                let t = trim_ws(l);
                t.is_empty() || whole_values(t).is_ok()
            })
        {
            f(Record::Bad {
                line: start,
                error: "invalid JSON: line ends inside a value".into(),
            });
            for (ln, l) in rest {
                let t = trim_ws(&l);
                if let Ok((values, lossy)) = whole_values_lossy(t) {
                    for v in values {
                        emit_value(v, ln, lossy, keys, f);
                    }
                }
            }
        } else {
            f(Record::Truncated {
                line: start,
                error: "truncated JSON document at end of input".into(),
            });
        }
    }
    Ok(())
}

/// The lines of a pending document after its first, with their numbers.
fn following_lines(d: &PendingDoc) -> Vec<(usize, Vec<u8>)> {
    d.buf
        .split_inclusive(|b| *b == b'\n')
        .enumerate()
        .skip(1)
        .map(|(i, l)| (d.start + i, l.to_vec()))
        .collect()
}

/// A collected document that is not valid JSON: its first line is the bad record, the
/// following lines are read again.
fn fail_doc(
    d: PendingDoc,
    e: Option<serde_json::Error>,
    pending: &mut std::collections::VecDeque<(usize, Vec<u8>)>,
    f: &mut dyn FnMut(Record),
) {
    let first_line = d.buf.split(|b| *b == b'\n').next().unwrap_or(&[]);
    // The first line's own error says what is wrong with a damaged line.
    let error = match (
        serde_json::from_slice::<serde::de::IgnoredAny>(trim_ws(first_line)),
        e,
    ) {
        (Err(first_err), _) => format!("invalid JSON: {first_err}"),
        (Ok(_), Some(e)) => format!("invalid JSON: {e}"),
        (Ok(_), None) => "invalid JSON document".to_string(),
    };
    f(Record::Bad {
        line: d.start,
        error,
    });
    for (i, l) in following_lines(&d).into_iter().rev() {
        pending.push_front((i, l));
    }
}

fn trim_ws(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end.max(start)]
}

fn read_line_capped<R: BufRead>(r: &mut R, buf: &mut Vec<u8>, cap: usize) -> io::Result<usize> {
    r.by_ref().take(cap as u64).read_until(b'\n', buf)
}

fn skip_to_newline<R: BufRead>(r: &mut R) -> io::Result<()> {
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            return Ok(());
        }
        if let Some(i) = memchr::memchr(b'\n', chunk) {
            r.consume(i + 1);
            return Ok(());
        }
        let n = chunk.len();
        r.consume(n);
    }
}

/// Whether a value read lossily holds a replacement character: of a document's elements,
/// only those that held the bad bytes are flagged.
fn replaced(lossy: bool, v: &Value) -> bool {
    lossy && v.to_string().contains('\u{fffd}')
}

fn emit_value(v: Value, line: usize, lossy: bool, keys: &[&str], f: &mut dyn FnMut(Record)) {
    match v {
        Value::Array(items) => {
            for value in items {
                let lossy = replaced(lossy, &value);
                f(Record::Ok { value, line, lossy });
            }
        }
        Value::Object(mut map) => {
            if let Some(k) = keys
                .iter()
                .find(|k| map.get(**k).is_some_and(Value::is_array))
            {
                if let Some(Value::Array(items)) = map.remove(*k) {
                    for value in items {
                        let lossy = replaced(lossy, &value);
                        f(Record::Ok { value, line, lossy });
                    }
                }
            } else {
                f(Record::Ok {
                    value: Value::Object(map),
                    line,
                    lossy,
                });
            }
        }
        other => f(Record::Ok {
            value: other,
            line,
            lossy,
        }),
    }
}

/// Byte-level JSON structure scanner: finds record boundaries without parsing values, so
/// a large `{"Records":[...]}` document streams one element at a time.
struct RecordSplitter<'k> {
    keys: &'k [&'k str],
    line: usize,
    depth: usize,
    in_str: bool,
    esc: bool,
    /// Depth of the array whose elements are records (1 = top-level array).
    target: Option<usize>,
    /// Whether the current top-level object had a record array.
    had_target: bool,
    /// Inside a depth-1 string that is an object key.
    key_buf: Option<Vec<u8>>,
    last_key: Vec<u8>,
    expect_key: bool,
    /// Current record bytes and its first line.
    buf: Vec<u8>,
    buf_line: usize,
    collecting: bool,
    /// Whole top-level document, kept until it turns out to hold a record array.
    doc: Vec<u8>,
    doc_line: usize,
    doc_keep: bool,
    overflow: bool,
}

impl<'k> RecordSplitter<'k> {
    fn new(keys: &'k [&'k str], line: usize) -> Self {
        RecordSplitter {
            keys,
            line,
            depth: 0,
            in_str: false,
            esc: false,
            target: None,
            had_target: false,
            key_buf: None,
            last_key: Vec::new(),
            expect_key: false,
            buf: Vec::new(),
            buf_line: 0,
            collecting: false,
            doc: Vec::new(),
            doc_line: 0,
            doc_keep: false,
            overflow: false,
        }
    }

    fn push_rec(&mut self, b: u8) {
        if self.buf.len() < MAX_RECORD {
            self.buf.push(b);
        } else {
            self.overflow = true;
        }
    }

    fn end_record(&mut self, f: &mut dyn FnMut(Record)) {
        if self.collecting {
            self.collecting = false;
            let line = self.buf_line;
            if self.overflow {
                f(Record::Bad {
                    line,
                    error: format!("record larger than {MAX_RECORD} bytes skipped"),
                });
            } else {
                match one_value_lossy(trim_ws(&self.buf)) {
                    Ok((value, lossy)) => f(Record::Ok { value, line, lossy }),
                    Err(e) => f(Record::Bad {
                        line,
                        error: format!("invalid JSON record: {e}"),
                    }),
                }
            }
            self.buf.clear();
            self.overflow = false;
        }
    }

    fn end_doc(&mut self, f: &mut dyn FnMut(Record)) {
        if self.doc_keep && !self.had_target {
            let line = self.doc_line;
            if self.doc.len() >= MAX_RECORD {
                f(Record::Bad {
                    line,
                    error: format!("document larger than {MAX_RECORD} bytes skipped"),
                });
            } else {
                match one_value_lossy(trim_ws(&self.doc)) {
                    Ok((value, lossy)) => emit_value(value, line, lossy, self.keys, f),
                    Err(e) => f(Record::Bad {
                        line,
                        error: format!("invalid JSON: {e}"),
                    }),
                }
            }
        }
        self.doc.clear();
        self.doc_keep = false;
        self.had_target = false;
        self.target = None;
    }

    fn feed(&mut self, chunk: &[u8], f: &mut dyn FnMut(Record)) {
        for &b in chunk {
            if self.doc_keep && !self.had_target && self.doc.len() < MAX_RECORD {
                self.doc.push(b);
            }
            let at_target = self.target == Some(self.depth);
            if self.in_str {
                if self.collecting {
                    self.push_rec(b);
                }
                if let Some(k) = self.key_buf.as_mut() {
                    if !self.esc && b == b'"' {
                    } else if k.len() < 256 {
                        k.push(b);
                    }
                }
                if self.esc {
                    self.esc = false;
                } else if b == b'\\' {
                    self.esc = true;
                } else if b == b'"' {
                    self.in_str = false;
                    if let Some(k) = self.key_buf.take() {
                        self.last_key = k;
                    }
                }
                if b == b'\n' {
                    self.line += 1;
                }
                continue;
            }
            if b == b'\n' {
                self.line += 1;
            }
            if b.is_ascii_whitespace() {
                if self.collecting {
                    self.push_rec(b);
                }
                continue;
            }
            if self.depth == 0 && !self.doc_keep {
                // A new top-level value starts.
                self.doc_keep = true;
                self.doc_line = self.line;
                self.doc.clear();
                self.doc.push(b);
                if b == b'[' {
                    self.had_target = true;
                    self.target = Some(1);
                }
            }
            if at_target && !self.collecting && b != b',' && b != b']' {
                self.collecting = true;
                self.buf_line = self.line;
            }
            if at_target && (b == b',' || b == b']') {
                self.end_record(f);
            } else if self.collecting {
                self.push_rec(b);
            }
            match b {
                b'"' => {
                    self.in_str = true;
                    if self.depth == 1 && self.expect_key && self.target != Some(1) {
                        self.key_buf = Some(Vec::new());
                    }
                }
                b'{' | b'[' => {
                    if self.depth == 1 && b == b'[' && self.target.is_none() && !self.had_target {
                        let key = String::from_utf8_lossy(&self.last_key);
                        if self.keys.iter().any(|k| *k == key) {
                            self.had_target = true;
                            self.target = Some(2);
                            self.doc.clear();
                        }
                    }
                    self.depth += 1;
                    if self.depth == 1 {
                        self.expect_key = b == b'{';
                    }
                }
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.target == Some(self.depth + 1) && b == b']' {
                        self.target = None;
                    }
                    if self.depth == 0 {
                        self.end_doc(f);
                    }
                }
                b',' if self.depth == 1 => self.expect_key = true,
                b':' if self.depth == 1 => self.expect_key = false,
                _ => {
                    if self.depth == 0 {
                        // A bare scalar at top level is not a record we can use.
                        self.doc_keep = false;
                    }
                }
            }
        }
    }

    fn finish(&mut self, f: &mut dyn FnMut(Record)) {
        if self.collecting {
            let line = self.buf_line;
            self.collecting = false;
            self.buf.clear();
            f(Record::Truncated {
                line,
                error: "truncated JSON record at end of input".into(),
            });
        } else if self.depth > 0 || (self.doc_keep && !self.had_target) {
            let line = if self.doc_keep {
                self.doc_line
            } else {
                self.line
            };
            f(Record::Truncated {
                line,
                error: "truncated JSON document at end of input".into(),
            });
        }
    }
}

/// A CSV row as (line, header→value pairs), or (line, error).
pub type CsvRow = Result<(usize, Vec<(String, String)>), (usize, String)>;

/// Turns CRLF line ends into LF. The csv crate counts lines on `\n` but stops a record after
/// the `\r` of a CRLF, so the `\n` is only counted once the next record has started and
/// every row of a CRLF file (the usual Windows / Excel export) was reported one line too low
/// (BurntSushi/rust-csv#395). Without the `\r` the line numbers are right.
struct CrlfToLf<R> {
    inner: R,
    scratch: Vec<u8>,
    /// A `\r` that ended the previous chunk, not yet known to precede a `\n`.
    held_cr: bool,
}

impl<R: Read> Read for CrlfToLf<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.len() < 2 {
            // Room for a held `\r` and one byte is needed; csv never reads this little.
            return self.inner.read(buf);
        }
        self.scratch.resize(buf.len() - 1, 0);
        let n = self.inner.read(&mut self.scratch)?;
        let mut out = 0;
        if n == 0 {
            if self.held_cr {
                self.held_cr = false;
                buf[0] = b'\r';
                return Ok(1);
            }
            return Ok(0);
        }
        if self.held_cr {
            self.held_cr = false;
            if self.scratch[0] != b'\n' {
                buf[0] = b'\r';
                out = 1;
            }
        }
        for i in 0..n {
            let b = self.scratch[i];
            if b == b'\r' {
                if i + 1 == n {
                    self.held_cr = true;
                    continue;
                }
                if self.scratch[i + 1] == b'\n' {
                    continue;
                }
            }
            buf[out] = b;
            out += 1;
        }
        if out == 0 {
            // Only a held `\r`: read on rather than signal end of input.
            return self.read(buf);
        }
        Ok(out)
    }
}

/// Reads CSV with a header; yields (line, header→value map). Rows that do not parse are
/// reported with their line and skipped. Returns false when the input could not be read to
/// its end (a read error: the rows after it were never seen).
pub fn csv_records<R: Read>(reader: R, f: &mut dyn FnMut(CsvRow)) -> bool {
    let reader = CrlfToLf {
        inner: reader,
        scratch: Vec::new(),
        held_cr: false,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(reader);
    let headers: Vec<String> = match rdr.byte_headers() {
        Ok(h) => h
            .iter()
            .map(|c| {
                String::from_utf8_lossy(c)
                    .trim()
                    .trim_start_matches('\u{feff}')
                    .to_ascii_lowercase()
            })
            .collect(),
        Err(e) => {
            f(Err((1, format!("invalid CSV header: {e}"))));
            return !matches!(e.kind(), csv::ErrorKind::Io(_));
        }
    };
    let mut rec = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => return true,
            Ok(true) => {
                let line = rec.position().map_or(0, |p| p.line() as usize);
                if rec.len() != headers.len() {
                    f(Err((
                        line,
                        format!("expected {} columns, found {}", headers.len(), rec.len()),
                    )));
                    continue;
                }
                let row = headers
                    .iter()
                    .cloned()
                    .zip(
                        rec.iter()
                            .map(|v| String::from_utf8_lossy(v).trim().to_string()),
                    )
                    .collect();
                f(Ok((line, row)));
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                f(Err((line, format!("invalid CSV row: {e}"))));
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    return false;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(text: &str, keys: &[&str]) -> Vec<(usize, Result<Value, String>)> {
        let mut out = Vec::new();
        json_records(text.as_bytes(), keys, &mut |r| match r {
            Record::Ok { value, line, .. } => out.push((line, Ok(value))),
            Record::Bad { line, error } => out.push((line, Err(error))),
            Record::Truncated { line, error } => out.push((line, Err(format!("T:{error}")))),
        })
        .ok();
        out
    }

    #[test]
    fn concatenated_documents_after_a_one_line_document() {
        // `gcloud … versions list` in a shell loop: `[]`, then pretty-printed arrays.
        let text = "[]\n[\n  {\n    \"x\": 1\n  },\n  {\"x\": 2}\n]\n[] []\n{\"SecretList\": [\n {\"x\": 3}\n]}\n";
        let r = collect(text, &["SecretList"]);
        let lines: Vec<usize> = r.iter().map(|(l, _)| *l).collect();
        assert!(r.iter().all(|(_, v)| v.is_ok()), "{r:?}");
        assert_eq!(lines, vec![3, 6, 10]);
    }

    #[test]
    fn damaged_jsonl_line_does_not_swallow_the_next_lines() {
        let text = "{\"a\":1}\n{\"a\":\n{\"a\":3}\n{\"a\":4}\n";
        let r = collect(text, &[]);
        assert_eq!(r.len(), 4, "{r:?}");
        assert_eq!(r[1].0, 2);
        assert!(r[1].1.as_ref().is_err_and(|e| !e.starts_with("T:")));
        assert_eq!((r[2].0, r[3].0), (3, 4));
        assert!(r[2].1.is_ok() && r[3].1.is_ok());
        // A pretty document that is cut off is truncated, not a bad record.
        let r = collect("{\"a\":1}\n[\n {\"x\": 1},\n {\"x\": ", &[]);
        assert_eq!(r.len(), 2, "{r:?}");
        assert!(r[1].1.as_ref().is_err_and(|e| e.starts_with("T:")));
        let r = collect("{\"a\":1}\n{\"a\": \"cut", &[]);
        assert!(r[1].1.as_ref().is_err_and(|e| e.starts_with("T:")), "{r:?}");
    }

    #[test]
    fn crlf_is_read_as_lf() {
        for chunk in [1usize, 2, 3, 7, 64] {
            let data = b"a,b\r\n1,2\r\n\r3,4\r\n\r";
            let mut out = Vec::new();
            let mut r = CrlfToLf {
                inner: data.as_slice(),
                scratch: Vec::new(),
                held_cr: false,
            };
            let mut buf = vec![0u8; chunk + 1];
            loop {
                let n = r.read(&mut buf).expect("read");
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&buf[..n]);
            }
            assert_eq!(out, b"a,b\n1,2\n\r3,4\n\r", "chunk {chunk}");
        }
    }

    #[test]
    fn empty_exports_and_digests() {
        for t in [
            "",
            " \n",
            "[]",
            "[]\n[]",
            "{\"Events\": []}",
            "{\"Events\": [], \"NextToken\": null}",
        ] {
            assert!(is_empty_export(t.as_bytes(), Role::Log), "{t:?}");
        }
        for t in [
            "[1]",
            "{}",
            "{\"Events\": [{}]}",
            "{\"id\": \"x\", \"Records\": []}",
            "[",
            "x",
        ] {
            assert!(!is_empty_export(t.as_bytes(), Role::Log), "{t:?}");
        }
        assert!(is_empty_export(b"{\"SecretList\": []}", Role::Inventory));
        assert!(is_cloudtrail_digest(
            b"{\"awsAccountId\":\"1\",\"digestStartTime\":\"x\"}"
        ));
        assert!(!is_cloudtrail_digest(b"{\"Records\": []}"));
    }

    #[test]
    fn pretty_document_records_have_lines() {
        let text = "{\n  \"NextToken\": \"x\",\n  \"SecretList\": [\n    {\n      \"Name\": \"a\"\n    },\n    {\"Name\": \"b\"}\n  ]\n}\n";
        let r = collect(text, &["SecretList"]);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].0, 4);
        assert_eq!(r[1].0, 7);
        assert_eq!(
            r[1].1.as_ref().ok().and_then(|v| v["Name"].as_str()),
            Some("b")
        );
    }

    #[test]
    fn jsonl_and_bad_lines() {
        let text = "{\"a\":1}\n{broken\n\n{\"a\":3}\n";
        let r = collect(text, &[]);
        assert_eq!(r.len(), 3);
        assert_eq!(r[1].0, 2);
        assert!(r[1].1.is_err());
        assert_eq!(r[2].0, 4);
    }

    #[test]
    fn concatenated_documents_and_bad_element() {
        let text = "{\n \"Name\": \"a\"\n}\n{\n \"Name\": \"b\"\n}\n[\n {\"x\": 1},\n {\"x\": tru},\n {\"x\": \"]\"}\n]\n";
        let r = collect(text, &[]);
        assert_eq!(r.len(), 5, "{r:?}");
        assert_eq!(r[1].0, 4);
        assert!(r[3].1.is_err());
        assert_eq!(r[4].0, 10);
    }

    #[test]
    fn truncated_document() {
        let r = collect("[\n {\"x\": 1},\n {\"x\": ", &[]);
        assert_eq!(r.len(), 2);
        assert!(r[1].1.is_err());
    }
}
