//! Least privilege from access-policy exports (`--policy-doc`): one parser per provider turns
//! IAM policies, RBAC objects, Vault policies and IAM bindings into normalised [`Grant`]s (who
//! may read which secrets, from where in the file) and [`Issue`]s (the PRV checks' findings).
//!
//! The grants are an upper bound on access: explicit denies, permission boundaries, SCPs and
//! Vault `deny` capabilities are not subtracted, because an export rarely holds all of them
//! and a missed deny would hide nothing while a missed allow would.

pub mod aws;
pub mod azure;
pub mod gcp;
pub mod hcl;
pub mod k8s;
pub mod vault;

use std::collections::HashMap;
use std::io::{BufRead, Read};

use serde_json::Value;

use super::checks::CheckId;
use super::input::{Count, InputFormat, Parser};
use super::inventory::{BadRecord, LOSSY_NOTE};
use super::model::{Item, Kind, Loc};

/// Largest policy export read (they are parsed whole to keep every element's line).
pub const MAX_DOC: u64 = 512 * 1024 * 1024;

/// Whose grant it is and what it covers, as the provider's export says.
#[derive(Debug, Clone)]
pub struct Grant {
    /// `aws`, `k8s`, `vault`, `gcp`, `azure`.
    pub provider: &'static str,
    /// Canonical principal: an IAM ARN, `k8s:serviceaccount:NS/NAME`, `vault-policy:NAME`,
    /// a GCP member (`serviceAccount:…`, `allUsers`), an Azure object id; `*` for anyone.
    pub principal: String,
    /// The policy, role or binding that grants it, for people.
    pub via: String,
    /// The action scope as written (`secretsmanager:*`, `get`, `read`, a role name).
    pub actions: Vec<String>,
    /// The resource patterns as written (ARN globs, Vault paths, a scope).
    pub resources: Vec<String>,
    /// Condition keys, when the grant has any.
    pub conditions: Vec<String>,
    /// The resources, parsed into what [`covers`] matches inventory secrets against.
    pub target: Target,
    /// The file and line of the statement, binding or block that grants it.
    pub loc: Loc,
    /// JSON pointer (or `path "…"` block) of the statement inside the file.
    pub pointer: String,
}

/// Which inventory secrets a grant reaches.
#[derive(Debug, Clone)]
pub enum Target {
    /// Secrets Manager ARNs matching these globs (or, with `not`, none of them).
    AwsArns {
        /// `Resource` (or `NotResource`) globs over secret ARNs.
        patterns: Vec<String>,
        /// The statement used `NotResource`.
        not: bool,
    },
    /// The one secret a resource policy is attached to (ARN or name).
    AwsSecret(String),
    /// Secrets of one namespace (None: every namespace), all of them or only these names.
    K8s {
        /// A RoleBinding's namespace; None for a ClusterRoleBinding.
        namespace: Option<String>,
        /// `resourceNames`; empty: every secret of the namespace.
        names: Vec<String>,
    },
    /// Vault paths (globs with `*` at the end and `+` for one segment).
    Vault(Vec<String>),
    /// A GCP project (None: the project is not in the export, so every GCP secret) or one secret.
    Gcp {
        /// The project's id or number, without `projects/`.
        project: Option<String>,
        /// A secret's resource name (`projects/P/secrets/S`) when the binding is on one secret.
        secret: Option<String>,
    },
    /// One Key Vault (by name), or every vault when the scope is wider than one vault.
    Azure {
        /// The Key Vault's name, compared without case.
        vault: Option<String>,
    },
}

/// One PRV finding before it becomes a check result.
#[derive(Debug, Clone)]
pub struct Issue {
    /// The PRV check it fails.
    pub check: CheckId,
    /// What the result is about: the principal that holds the grant (or the policy, for Vault).
    pub subject: String,
    /// The result's display name: the policy, binding or statement (with its Sid) at fault.
    pub name: String,
    /// The result's one-sentence explanation.
    pub message: String,
    /// Added to the result's evidence as (key, value) pairs; findings merged into one by
    /// [`AccessData::finish`] are listed under `also`.
    pub evidence: Vec<(&'static str, Value)>,
    /// The file and line of the statement.
    pub loc: Loc,
    /// JSON pointer (or `path "…"` block) of the statement inside the file.
    pub pointer: String,
}

/// Everything read from the policy exports; providers whose pieces may sit in several files
/// (Kubernetes roles and bindings, Vault policies and their attachments) are joined in
/// [`AccessData::finish`].
#[derive(Debug, Default)]
pub struct AccessData {
    /// Every grant of every provider; complete only after [`AccessData::finish`].
    pub grants: Vec<Grant>,
    /// PRV findings, one per (check, subject) after [`AccessData::finish`].
    pub issues: Vec<Issue>,
    /// Kubernetes roles and bindings collected until `finish` joins them into grants.
    pub k8s: k8s::Rbac,
    /// Vault policies and their attachments collected until `finish` joins them into grants.
    pub vault: vault::Policies,
    /// Things the readers could not evaluate (an attached policy missing from the export).
    pub notes: Vec<BadRecord>,
    /// Inputs read (a table is only shown when there were any).
    pub inputs: usize,
    /// AWS (group ARN, member user ARN): a group's grants are its users' too.
    pub group_members: Vec<(String, String)>,
    finished: bool,
}

impl AccessData {
    /// Joins what needs every file (Kubernetes bindings to roles, Vault attachments to
    /// policies) and merges issues that name the same (check, subject).
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        let k = std::mem::take(&mut self.k8s);
        k.resolve(self);
        let v = std::mem::take(&mut self.vault);
        v.resolve(self);
        let mut inherited = Vec::new();
        for (group, user) in &self.group_members {
            for g in self
                .grants
                .iter()
                .filter(|g| g.provider == "aws" && &g.principal == group)
            {
                let mut c = g.clone();
                c.principal = user.clone();
                c.via = format!("{} (through group {group})", g.via);
                inherited.push(c);
            }
        }
        self.grants.extend(inherited);
        let mut seen: HashMap<(CheckId, String), usize> = HashMap::new();
        let mut merged: Vec<Issue> = Vec::new();
        for is in std::mem::take(&mut self.issues) {
            match seen.get(&(is.check, is.subject.clone())) {
                Some(&i) => {
                    let also = format!("{} ({}:{})", is.name, is.loc.file, is.loc.line);
                    let m = &mut merged[i];
                    match m.evidence.iter_mut().find(|(k, _)| *k == "also") {
                        Some((_, Value::Array(a))) => {
                            if a.len() < 20 {
                                a.push(Value::String(also))
                            }
                        }
                        _ => m
                            .evidence
                            .push(("also", Value::Array(vec![Value::String(also)]))),
                    }
                }
                None => {
                    seen.insert((is.check, is.subject.clone()), merged.len());
                    merged.push(is);
                }
            }
        }
        self.issues = merged;
    }
}

/// Helps a parser place what it finds: the file, and the line of each JSON pointer.
pub struct DocCtx<'a> {
    /// The input's path as reported.
    pub file: &'a str,
    /// The line of each JSON pointer in the document, from [`line_index`].
    pub lines: &'a HashMap<String, usize>,
    /// Line of the document's start (used when a pointer is not indexed).
    pub line: usize,
}

impl DocCtx<'_> {
    /// Where a pointer is: its own line, else the nearest indexed parent's.
    pub fn loc(&self, pointer: &str) -> Loc {
        // A pointer into a document embedded as a string (`…/PolicyDocument#/Statement/0`)
        // is placed at that string.
        let mut p = pointer.split('#').next().unwrap_or(pointer);
        loop {
            if let Some(l) = self.lines.get(p) {
                return Loc {
                    file: self.file.to_string(),
                    line: *l,
                };
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => {
                    return Loc {
                        file: self.file.to_string(),
                        line: self.line,
                    };
                }
            }
        }
    }
}

/// JSON pointer segment escaping (RFC 6901).
pub fn ptr(base: &str, seg: impl std::fmt::Display) -> String {
    format!(
        "{base}/{}",
        seg.to_string().replace('~', "~0").replace('/', "~1")
    )
}

/// Reads one `--policy-doc` input whole and hands each document to its provider's parser.
/// Anything unreadable (invalid JSON, a document that is not the expected shape, a
/// statement that cannot be understood) is reported with its line and makes the input
/// partial: a policy that was not read may grant anything.
pub fn load<R: BufRead>(
    format: &'static InputFormat,
    reader: R,
    file: &str,
    data: &mut AccessData,
    bad: &mut Vec<BadRecord>,
) -> std::io::Result<Count> {
    let Parser::Access {
        json: parse_json,
        text: parse_text,
    } = format.parser
    else {
        return Err(std::io::Error::other(format!(
            "{} is not an access-policy format",
            format.name
        )));
    };
    data.inputs += 1;
    let before = bad.len();
    let mut bytes = Vec::new();
    let mut limited = reader.take(MAX_DOC + 1);
    let read = limited.read_to_end(&mut bytes);
    let mut count = Count::default();
    let at = |line: usize| Loc {
        file: file.to_string(),
        line,
    };
    if let Err(e) = read {
        bad.push(BadRecord {
            loc: at(0),
            error: format!("input could not be read to the end: {e}"),
        });
        count.partial = true;
        if bytes.is_empty() {
            return Ok(count);
        }
    }
    if bytes.len() as u64 > MAX_DOC {
        bad.push(BadRecord {
            loc: at(0),
            error: format!("policy export larger than {MAX_DOC} bytes: not read"),
        });
        count.partial = true;
        return Ok(count);
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            data.notes.push(BadRecord {
                loc: at(1),
                error: LOSSY_NOTE.to_string(),
            });
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let trimmed = text.trim_start();
    if let Some(parse_text) = parse_text
        && !trimmed.starts_with('{')
        && !trimmed.starts_with('[')
    {
        count.records += 1;
        if let Err((line, e)) = parse_text(text, file, data) {
            bad.push(BadRecord {
                loc: at(line),
                error: e,
            });
        }
        count.partial |= bad.len() > before;
        return Ok(count);
    }
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let mut start = 0usize;
    loop {
        // The next document starts at the first non-blank byte after the previous one.
        let skip = text[start..]
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(text.len() - start);
        let doc_start = start + skip;
        match stream.next() {
            None => break,
            Some(Err(e)) => {
                bad.push(BadRecord {
                    loc: at(e.line()),
                    error: format!("invalid JSON: {e}"),
                });
                break;
            }
            Some(Ok(value)) => {
                let end = stream.byte_offset();
                let first_line = 1 + text[..doc_start].bytes().filter(|b| *b == b'\n').count();
                let lines = line_index(&text.as_bytes()[doc_start..end], first_line);
                let cx = DocCtx {
                    file,
                    lines: &lines,
                    line: first_line,
                };
                count.records += 1;
                if let Err(errors) = parse_json(&value, &cx, data) {
                    for (pointer, error) in errors {
                        bad.push(BadRecord {
                            loc: cx.loc(&pointer),
                            error: if pointer.is_empty() {
                                error
                            } else {
                                format!("{error} (at {pointer})")
                            },
                        });
                    }
                }
                start = end;
            }
        }
    }
    count.partial |= bad.len() > before;
    Ok(count)
}

/// Errors of one document: (JSON pointer, message); the good parts are still used.
pub type DocErrors = Vec<(String, String)>;

/// Reads a document that is one object, an array of them, or (with `list`) an object holding
/// them under that key: `one` gets each with its JSON pointer and collects the errors.
pub fn each_object(
    v: &Value,
    list: Option<&str>,
    mut one: impl FnMut(&Value, &str, &mut DocErrors),
) -> Result<(), DocErrors> {
    let mut errs = Vec::new();
    let listed = list.and_then(|k| Some((format!("/{k}"), v.get(k)?.as_array()?)));
    match (v, listed) {
        (Value::Array(a), _) => {
            for (i, x) in a.iter().enumerate() {
                one(x, &ptr("", i), &mut errs);
            }
        }
        (Value::Object(_), Some((base, a))) => {
            for (i, x) in a.iter().enumerate() {
                one(x, &ptr(&base, i), &mut errs);
            }
        }
        _ => one(v, "", &mut errs),
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

/// Lines of the containers and strings of a JSON document by JSON pointer, so each grant
/// can say where it was written. Depth and size are bounded (hostile input).
pub fn line_index(doc: &[u8], first_line: usize) -> HashMap<String, usize> {
    const MAX_DEPTH: usize = 12;
    const MAX_ENTRIES: usize = 2_000_000;
    enum Frame {
        Obj { path: String, key: Option<String> },
        Arr { path: String, idx: usize },
    }
    let mut map = HashMap::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut line = first_line;
    let mut i = 0;
    let mut want_key = false;
    let here = |stack: &[Frame]| -> Option<String> {
        match stack.last() {
            None => Some(String::new()),
            Some(Frame::Obj { path, key }) => key.as_ref().map(|k| ptr(path, k)),
            Some(Frame::Arr { path, idx }) => Some(ptr(path, idx)),
        }
    };
    while i < doc.len() {
        let b = doc[i];
        match b {
            b'\n' => line += 1,
            b'"' => {
                let s = i;
                i += 1;
                while i < doc.len() && doc[i] != b'"' {
                    if doc[i] == b'\\' {
                        i += 1;
                    } else if doc[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
                let raw = &doc[s..(i + 1).min(doc.len())];
                if want_key {
                    want_key = false;
                    let k = serde_json::from_slice::<String>(raw)
                        .unwrap_or_else(|_| String::from_utf8_lossy(raw).into_owned());
                    if let Some(Frame::Obj { key, .. }) = stack.last_mut() {
                        *key = Some(k);
                    }
                } else if stack.len() < MAX_DEPTH
                    && map.len() < MAX_ENTRIES
                    && let Some(p) = here(&stack)
                {
                    map.entry(p).or_insert(line);
                }
            }
            b'{' | b'[' => {
                let path = here(&stack).unwrap_or_default();
                if stack.len() < MAX_DEPTH && map.len() < MAX_ENTRIES {
                    map.entry(path.clone()).or_insert(line);
                }
                if b == b'{' {
                    stack.push(Frame::Obj { path, key: None });
                    want_key = true;
                } else {
                    stack.push(Frame::Arr { path, idx: 0 });
                }
            }
            b'}' | b']' => {
                stack.pop();
                want_key = false;
            }
            b',' => match stack.last_mut() {
                Some(Frame::Obj { key, .. }) => {
                    *key = None;
                    want_key = true;
                }
                Some(Frame::Arr { idx, .. }) => *idx += 1,
                None => {}
            },
            _ => {}
        }
        i += 1;
    }
    map
}

/// AWS-style glob: `*` any run, `?` one character. Compares bytes (ARNs and action names
/// are ASCII), so the effective-access join allocates nothing per comparison.
pub fn glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let eq = |a: u8, b: u8| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] != b'*' && (p[pi] == b'?' || eq(p[pi], t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

/// How much of a secret namespace a name pattern spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// Every secret (`*`).
    All,
    /// A whole environment or service tier (`prod/*`, `*/db`, `+/db`): at most one literal
    /// leading segment before a wildcard.
    Broad,
    /// Narrower than that (or no wildcard).
    Narrow,
}

/// Span of a secret-name pattern (`prod/payments/*`, `*`, `+/db`). `plus` says whether `+`
/// is a one-segment wildcard (Vault) rather than a literal (AWS names may contain `+`).
pub fn span(name: &str, plus: bool) -> Span {
    let wild = |c: char| c == '*' || c == '?';
    let name = name.trim_start_matches('/');
    if name.is_empty()
        || name
            .chars()
            .all(|c| c == '*' || c == '/' || (plus && c == '+'))
    {
        return if name.contains('*') || name.is_empty() {
            Span::All
        } else {
            Span::Broad
        };
    }
    let mut literal = 0;
    for seg in name.split('/') {
        let seg_wild = (plus && seg == "+") || seg.starts_with(wild);
        if seg_wild {
            return if literal <= 1 {
                Span::Broad
            } else {
                Span::Narrow
            };
        }
        literal += 1;
        if seg.contains(wild) {
            // `prod*` still spans every name that starts so (production, prod-eu…).
            return if literal <= 1 {
                Span::Broad
            } else {
                Span::Narrow
            };
        }
    }
    Span::Narrow
}

/// Effective access: for each inventory secret, the grants that reach it. Items are indexed
/// by kind and sorted by id, so a grant with a literal prefix (`…:secret:prod/payments/`,
/// `k8s:shop/`) only tests the items under that prefix: the join stays near-linear for
/// accounts with thousands of scoped grants and secrets.
pub fn readers(items: &[Item], grants: &[Grant]) -> Vec<Vec<usize>> {
    let mut by_kind: HashMap<Kind, Vec<(&str, usize)>> = HashMap::new();
    for (i, it) in items.iter().enumerate() {
        by_kind
            .entry(it.kind)
            .or_default()
            .push((it.id.as_str(), i));
    }
    for v in by_kind.values_mut() {
        v.sort_unstable();
    }
    let under = |kind: Kind, prefix: &str| -> Vec<usize> {
        let Some(v) = by_kind.get(&kind) else {
            return Vec::new();
        };
        let start = v.partition_point(|(id, _)| *id < prefix);
        v[start..]
            .iter()
            .take_while(|(id, _)| id.starts_with(prefix))
            .map(|(_, i)| *i)
            .collect()
    };
    let literal = |p: &str| -> String { p.split(['*', '?']).next().unwrap_or("").to_string() };
    let mut out = vec![Vec::new(); items.len()];
    for (gi, g) in grants.iter().enumerate() {
        let mut candidates: Vec<usize> = match &g.target {
            Target::AwsArns {
                patterns,
                not: false,
            } => patterns
                .iter()
                .flat_map(|p| under(Kind::AwsSecret, &literal(p)))
                .collect(),
            Target::AwsArns { not: true, .. } | Target::AwsSecret(_) => under(Kind::AwsSecret, ""),
            Target::K8s {
                namespace: Some(ns),
                ..
            } => under(Kind::K8sSecret, &format!("k8s:{ns}/")),
            Target::K8s {
                namespace: None, ..
            } => under(Kind::K8sSecret, ""),
            Target::Vault(_) => under(Kind::VaultKv, ""),
            Target::Gcp { .. } => under(Kind::GcpSecret, ""),
            Target::Azure { .. } => under(Kind::AzureSecret, ""),
        };
        candidates.sort_unstable();
        candidates.dedup();
        for ii in candidates {
            if covers(g, &items[ii]) {
                out[ii].push(gi);
            }
        }
    }
    out
}

/// Whether a grant reaches an inventory secret.
pub fn covers(g: &Grant, it: &Item) -> bool {
    match (&g.target, it.kind) {
        (Target::AwsArns { patterns, not }, Kind::AwsSecret) => {
            let hit = patterns.iter().any(|p| glob(p, &it.id, false));
            hit != *not
        }
        (Target::AwsSecret(s), Kind::AwsSecret) => {
            s == &it.id
                || super::inventory::aws::partial_arn(s).is_some_and(|p| {
                    super::inventory::aws::partial_arn(&it.id).is_some_and(|q| p == q)
                })
                || (!s.starts_with("arn:") && (it.name == *s || it.aliases.iter().any(|a| a == s)))
        }
        (Target::K8s { namespace, names }, Kind::K8sSecret) => {
            let Some((ns, name)) = it.id.strip_prefix("k8s:").and_then(|r| r.split_once('/'))
            else {
                return false;
            };
            namespace.as_deref().is_none_or(|n| n == ns)
                && (names.is_empty() || names.iter().any(|n| n == name))
        }
        (Target::Vault(paths), Kind::VaultKv) => {
            let Some(rest) = it.id.strip_prefix("vault:") else {
                return false;
            };
            let (mount, key) = rest.split_once('/').unwrap_or((rest, ""));
            // KV v2 reads go through `<mount>/data/<key>`, KV v1 through `<mount>/<key>`.
            let forms = [format!("{mount}/data/{key}"), rest.to_string()];
            paths
                .iter()
                .any(|p| forms.iter().any(|f| vault::path_matches(p, f)))
        }
        (Target::Gcp { project, secret }, Kind::GcpSecret) => match secret {
            Some(s) => {
                s == &it.id
                    || super::inventory::gcp::split_name(s)
                        .zip(super::inventory::gcp::split_name(&it.id))
                        // Project number or id: the secret id decides.
                        .is_some_and(|(a, b)| a.1 == b.1)
            }
            None => match project {
                None => true,
                Some(p) => {
                    let want = p.trim_start_matches("projects/");
                    it.id
                        .strip_prefix("projects/")
                        .and_then(|r| r.split('/').next())
                        .is_some_and(|have| have == want)
                }
            },
        },
        (Target::Azure { vault }, Kind::AzureSecret) => match vault {
            None => true,
            Some(v) => azure::vault_of(&it.id).is_some_and(|have| have.eq_ignore_ascii_case(v)),
        },
        _ => false,
    }
}

/// A principal in the form the audit logs name it, to compare grants with use: AWS
/// `ACCOUNT:role/NAME` / `ACCOUNT:user/NAME` (an assumed-role session counts as its role),
/// GCP and Azure identities lower-cased without their `user:` / `serviceAccount:` prefix.
pub fn log_key(provider: &str, principal: &str) -> Option<String> {
    match provider {
        "aws" => aws::principal_key(principal),
        "gcp" => {
            let p = principal
                .split_once(':')
                .map_or(principal, |(kind, rest)| match kind {
                    "user" | "serviceAccount" => rest,
                    _ => principal,
                });
            (p.contains('@')).then(|| p.to_ascii_lowercase())
        }
        "azure" => Some(principal.to_ascii_lowercase()),
        _ => None,
    }
}

/// Condition keys of a statement or binding, for display.
pub fn condition_keys(v: Option<&Value>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(Value::Object(ops)) = v {
        for (op, body) in ops {
            match body {
                Value::Object(keys) => {
                    for k in keys.keys() {
                        out.push(format!("{op}:{k}"));
                    }
                }
                _ => out.push(op.clone()),
            }
        }
    }
    out
}

/// A string or a list of strings (AWS `Action`, `Resource`).
pub fn strings(v: Option<&Value>) -> Result<Vec<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str().map(str::to_string).ok_or_else(|| {
                    format!("expected a string, found {}", super::inventory::kind_of(x))
                })
            })
            .collect(),
        Some(other) => Err(format!(
            "expected a string or a list of strings, found {}",
            super::inventory::kind_of(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_spans() {
        assert!(glob(
            "arn:aws:secretsmanager:*:*:secret:prod/*",
            "arn:aws:secretsmanager:us-east-1:1:secret:prod/db-AbC",
            false
        ));
        assert!(!glob(
            "arn:aws:secretsmanager:*:*:secret:prod/*",
            "arn:aws:secretsmanager:us-east-1:1:secret:dev/db",
            false
        ));
        assert!(glob(
            "secretsmanager:Get*",
            "secretsmanager:getsecretvalue",
            true
        ));
        assert!(glob("a?c", "abc", false) && !glob("a?c", "ac", false));
        assert_eq!(span("*", false), Span::All);
        assert_eq!(span("", false), Span::All);
        assert_eq!(span("prod/*", false), Span::Broad);
        assert_eq!(span("prod*", false), Span::Broad);
        assert_eq!(span("*/db", false), Span::Broad);
        assert_eq!(span("+/db", true), Span::Broad);
        assert_eq!(span("+/*", true), Span::All);
        assert_eq!(span("prod/payments/*", false), Span::Narrow);
        assert_eq!(span("prod/+/db", true), Span::Broad);
        assert_eq!(span("prod/payments/db", false), Span::Narrow);
        assert_eq!(span("team/app/+", true), Span::Narrow);
    }

    #[test]
    fn line_index_finds_nested_elements() {
        let doc = b"{\n \"a\": [\n  {\"b\": 1},\n  {\n   \"c/d\": \"x\"\n  }\n ]\n}";
        let m = line_index(doc, 10);
        assert_eq!(m.get(""), Some(&10));
        assert_eq!(m.get("/a"), Some(&11));
        assert_eq!(m.get("/a/0"), Some(&12));
        assert_eq!(m.get("/a/1"), Some(&13));
        assert_eq!(m.get("/a/1/c~1d"), Some(&14));
    }
}
