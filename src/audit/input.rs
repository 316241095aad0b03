//! Opening inputs (files, `.gz`, stdin `-`, `FORMAT:FILE`), detecting their format from
//! content, and splitting JSON / JSONL / CSV into records with their line numbers, streaming.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// What a file is for; detection only considers formats of its role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Inventory,
    Log,
    Findings,
}

/// Every input format the auditor reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputFormat {
    AwsSecrets,
    AwsIamKeys,
    AwsCredentialReport,
    VaultKv,
    GcpSecrets,
    AzureSecrets,
    K8sSecrets,
    Generic,
    CloudTrail,
    VaultAudit,
    GcpAudit,
    AzureAudit,
    KeywardenJson,
    KeywardenSarif,
}

impl InputFormat {
    pub const ALL: [InputFormat; 14] = [
        InputFormat::AwsSecrets,
        InputFormat::AwsIamKeys,
        InputFormat::AwsCredentialReport,
        InputFormat::VaultKv,
        InputFormat::GcpSecrets,
        InputFormat::AzureSecrets,
        InputFormat::K8sSecrets,
        InputFormat::Generic,
        InputFormat::CloudTrail,
        InputFormat::VaultAudit,
        InputFormat::GcpAudit,
        InputFormat::AzureAudit,
        InputFormat::KeywardenJson,
        InputFormat::KeywardenSarif,
    ];

    pub fn name(self) -> &'static str {
        match self {
            InputFormat::AwsSecrets => "aws-secrets",
            InputFormat::AwsIamKeys => "aws-iam-keys",
            InputFormat::AwsCredentialReport => "aws-credential-report",
            InputFormat::VaultKv => "vault-kv",
            InputFormat::GcpSecrets => "gcp-secrets",
            InputFormat::AzureSecrets => "azure-secrets",
            InputFormat::K8sSecrets => "k8s-secrets",
            InputFormat::Generic => "generic",
            InputFormat::CloudTrail => "cloudtrail",
            InputFormat::VaultAudit => "vault-audit",
            InputFormat::GcpAudit => "gcp-audit",
            InputFormat::AzureAudit => "azure-audit",
            InputFormat::KeywardenJson => "keywarden-json",
            InputFormat::KeywardenSarif => "keywarden-sarif",
        }
    }

    pub fn from_name(s: &str) -> Option<InputFormat> {
        InputFormat::ALL.into_iter().find(|f| f.name() == s)
    }

    pub fn role(self) -> Role {
        match self {
            InputFormat::CloudTrail
            | InputFormat::VaultAudit
            | InputFormat::GcpAudit
            | InputFormat::AzureAudit => Role::Log,
            InputFormat::KeywardenJson | InputFormat::KeywardenSarif => Role::Findings,
            _ => Role::Inventory,
        }
    }

    /// Top-level keys whose array holds the records (a document without them is one record).
    pub fn array_keys(self) -> &'static [&'static str] {
        match self {
            InputFormat::AwsSecrets => &["SecretList", "SecretValues"],
            InputFormat::AwsIamKeys => &["AccessKeyMetadata"],
            InputFormat::K8sSecrets => &["items"],
            InputFormat::CloudTrail => &["Records", "Events"],
            InputFormat::AzureAudit => &["records", "value"],
            InputFormat::GcpAudit => &["entries"],
            InputFormat::AzureSecrets => &["value"],
            InputFormat::GcpSecrets => &["secrets", "versions"],
            InputFormat::KeywardenJson => &["findings"],
            _ => &[],
        }
    }
}

/// `FORMAT:FILE` or `FILE`; the prefix only counts when it names a known format, so paths
/// with colons still work.
#[derive(Debug, Clone)]
pub struct InputSpec {
    pub path: String,
    pub format: Option<InputFormat>,
}

impl InputSpec {
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
                let names: Vec<_> = InputFormat::ALL.iter().map(|f| f.name()).collect();
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

pub type Reader = BufReader<Box<dyn Read>>;

const PREFIX_LEN: usize = 16 * 1024;

/// Opens a file (or stdin), decompresses gzip by its magic bytes, and returns the reader
/// plus the first bytes of content for detection.
pub fn open(path: &str) -> Result<(Reader, Vec<u8>)> {
    let raw: Box<dyn Read> = if path == "-" {
        Box::new(io::stdin())
    } else {
        Box::new(File::open(path).with_context(|| format!("cannot open {path}"))?)
    };
    open_reader(raw).with_context(|| format!("cannot read {path}"))
}

pub fn open_reader(raw: Box<dyn Read>) -> Result<(Reader, Vec<u8>)> {
    let mut br = BufReader::with_capacity(256 * 1024, raw);
    let magic = br.fill_buf()?;
    let inner: Box<dyn Read> = if magic.len() >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
        Box::new(flate2::read::MultiGzDecoder::new(br))
    } else {
        Box::new(br)
    };
    let mut inner = inner;
    let mut prefix = Vec::with_capacity(PREFIX_LEN);
    (&mut inner)
        .take(PREFIX_LEN as u64)
        .read_to_end(&mut prefix)?;
    let chained: Box<dyn Read> = Box::new(Cursor::new(prefix.clone()).chain(inner));
    Ok((BufReader::with_capacity(256 * 1024, chained), prefix))
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
pub fn detect(prefix: &[u8], role: Role) -> Option<InputFormat> {
    let text = String::from_utf8_lossy(prefix);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    let json = t.starts_with('{') || t.starts_with('[');
    match role {
        Role::Log => {
            if !json {
                return None;
            }
            if has_key(t, "protoPayload") {
                Some(InputFormat::GcpAudit)
            } else if has_key(t, "operationName")
                && (has_key(t, "resultSignature")
                    || t.contains("AuditEvent")
                    || t.contains("vault.azure.net"))
            {
                Some(InputFormat::AzureAudit)
            } else if has_key(t, "Records")
                || has_key(t, "eventVersion")
                || has_key(t, "eventSource")
                || has_key(t, "CloudTrailEvent")
                || t.contains("via CloudTrail")
            {
                Some(InputFormat::CloudTrail)
            } else if has_key(t, "request") && (has_key(t, "type") || has_key(t, "auth")) {
                Some(InputFormat::VaultAudit)
            } else if has_key(t, "records")
                || (has_key(t, "OperationName") && (has_key(t, "id_s") || t.contains("VAULTS")))
            {
                Some(InputFormat::AzureAudit)
            } else {
                None
            }
        }
        Role::Findings => {
            if !json {
                return None;
            }
            if has_key(t, "runs") && (t.contains("sarif") || has_key(t, "version")) {
                Some(InputFormat::KeywardenSarif)
            } else if t.contains("keywarden/scan")
                || has_key(t, "rule_id")
                || has_key(t, "findings")
            {
                Some(InputFormat::KeywardenJson)
            } else {
                None
            }
        }
        Role::Inventory => {
            // An audit log or scan output is never read as an inventory.
            if json
                && (detect(prefix, Role::Log).is_some() || detect(prefix, Role::Findings).is_some())
            {
                return None;
            }
            if !json {
                let header = first_line(t).to_ascii_lowercase();
                if header.starts_with("user,arn,") {
                    return Some(InputFormat::AwsCredentialReport);
                }
                let cols: Vec<&str> = header
                    .split(',')
                    .map(|c| c.trim().trim_matches('"'))
                    .collect();
                if cols.contains(&"id") {
                    return Some(InputFormat::Generic);
                }
                return None;
            }
            if has_key(t, "SecretList")
                || (has_key(t, "ARN") && t.contains("arn:aws:secretsmanager"))
            {
                Some(InputFormat::AwsSecrets)
            } else if has_key(t, "AccessKeyMetadata") || has_key(t, "AccessKeyId") {
                Some(InputFormat::AwsIamKeys)
            } else if has_key(t, "Content")
                && (has_key(t, "ReportFormat") || has_key(t, "GeneratedTime"))
            {
                Some(InputFormat::AwsCredentialReport)
            } else if has_key(t, "metadata") && has_key(t, "path") && !has_key(t, "apiVersion") {
                Some(InputFormat::VaultKv)
            } else if has_key(t, "apiVersion")
                || (has_key(t, "kind") && t.contains("Secret") && has_key(t, "metadata"))
            {
                Some(InputFormat::K8sSecrets)
            } else if t.contains("vault.azure.net")
                || (has_key(t, "attributes") && has_key(t, "enabled"))
            {
                Some(InputFormat::AzureSecrets)
            } else if t.contains("/secrets/")
                && t.contains("projects/")
                && (has_key(t, "createTime") || has_key(t, "replication"))
            {
                Some(InputFormat::GcpSecrets)
            } else if has_key(t, "id") {
                Some(InputFormat::Generic)
            } else {
                None
            }
        }
    }
}

/// One record cut out of an input, or the reason it could not be read.
pub enum Record {
    Ok { value: Value, line: usize },
    Bad { line: usize, error: String },
}

/// Largest single record accepted: bounds memory on hostile input.
pub const MAX_RECORD: usize = 64 * 1024 * 1024;

/// Streams the records of a JSON input: JSON Lines (each line a value), or documents
/// (pretty-printed or concatenated). A top-level array, or an object's array under one of
/// `keys`, yields its elements; any other value is itself one record. Never holds more than
/// one record in memory.
pub fn json_records<R: BufRead>(
    mut reader: R,
    keys: &[&str],
    f: &mut dyn FnMut(Record),
) -> io::Result<()> {
    // JSON Lines when the first non-empty line is a complete value.
    let mut first = Vec::new();
    let mut skipped_lines = 0usize;
    loop {
        first.clear();
        let n = read_line_capped(&mut reader, &mut first, MAX_RECORD)?;
        if n == 0 {
            return Ok(());
        }
        if first.iter().all(|b| b.is_ascii_whitespace()) {
            skipped_lines += 1;
            continue;
        }
        break;
    }
    let trimmed = trim_ws(&first);
    let trimmed = trimmed
        .strip_prefix(b"\xef\xbb\xbf".as_slice())
        .unwrap_or(trimmed);
    if first.len() < MAX_RECORD && serde_json::from_slice::<serde::de::IgnoredAny>(trimmed).is_ok()
    {
        let mut line = skipped_lines + 1;
        emit_line(trimmed, line, keys, f);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let n = read_line_capped(&mut reader, &mut buf, MAX_RECORD)?;
            if n == 0 {
                return Ok(());
            }
            line += 1;
            if buf.len() >= MAX_RECORD && !buf.ends_with(b"\n") {
                f(Record::Bad {
                    line,
                    error: format!("line longer than {MAX_RECORD} bytes skipped"),
                });
                skip_to_newline(&mut reader)?;
                continue;
            }
            let t = trim_ws(&buf);
            if t.is_empty() {
                continue;
            }
            emit_line(t, line, keys, f);
        }
    }
    let mut scanner = RecordSplitter::new(keys, skipped_lines + 1);
    scanner.feed(&first, f);
    loop {
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

fn emit_line(t: &[u8], line: usize, keys: &[&str], f: &mut dyn FnMut(Record)) {
    match serde_json::from_slice::<Value>(t) {
        Ok(v) => emit_value(v, line, keys, f),
        Err(e) => f(Record::Bad {
            line,
            error: format!("invalid JSON: {e}"),
        }),
    }
}

fn emit_value(v: Value, line: usize, keys: &[&str], f: &mut dyn FnMut(Record)) {
    match v {
        Value::Array(items) => {
            for value in items {
                f(Record::Ok { value, line });
            }
        }
        Value::Object(mut map) => {
            if let Some(k) = keys
                .iter()
                .find(|k| map.get(**k).is_some_and(Value::is_array))
            {
                if let Some(Value::Array(items)) = map.remove(*k) {
                    for value in items {
                        f(Record::Ok { value, line });
                    }
                }
            } else {
                f(Record::Ok {
                    value: Value::Object(map),
                    line,
                });
            }
        }
        other => f(Record::Ok { value: other, line }),
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
                match serde_json::from_slice::<Value>(trim_ws(&self.buf)) {
                    Ok(value) => f(Record::Ok { value, line }),
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
                match serde_json::from_slice::<Value>(trim_ws(&self.doc)) {
                    Ok(value) => emit_value(value, line, self.keys, f),
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
            f(Record::Bad {
                line,
                error: "truncated JSON record at end of input".into(),
            });
        } else if self.depth > 0 || (self.doc_keep && !self.had_target) {
            let line = if self.doc_keep {
                self.doc_line
            } else {
                self.line
            };
            f(Record::Bad {
                line,
                error: "truncated JSON document at end of input".into(),
            });
        }
    }
}

/// A CSV row as (line, header→value pairs), or (line, error).
pub type CsvRow = Result<(usize, Vec<(String, String)>), (usize, String)>;

/// Reads CSV with a header; yields (line, header→value map). Rows that do not parse are
/// reported with their line and skipped.
pub fn csv_records<R: Read>(reader: R, f: &mut dyn FnMut(CsvRow)) {
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
            return;
        }
    };
    let mut rec = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => return,
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
                    return;
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
            Record::Ok { value, line } => out.push((line, Ok(value))),
            Record::Bad { line, error } => out.push((line, Err(error))),
        })
        .ok();
        out
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
