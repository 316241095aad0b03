//! HashiCorp Vault ACL policies: HCL text files, `vault policy read -format=json`
//! (`{"policy": "<HCL>"}`), `vault read -format=json sys/policy/NAME` (`data.rules`), JSON-syntax
//! policies, and what attaches them: auth roles, tokens and entities with `token_policies` /
//! `policies` (`root` among them is full access).

use serde_json::{Value, json};

use super::hcl::{self, HItem, HValue};
use super::{AccessData, DocCtx, DocErrors, Grant, Issue, Span, Target, ptr, span};
use crate::audit::checks::CheckId;
use crate::audit::inventory::{BadRecord, kind_of, s};
use crate::audit::model::Loc;

#[derive(Debug, Clone)]
struct PathRule {
    pattern: String,
    caps: Vec<String>,
    loc: Loc,
    pointer: String,
}

#[derive(Debug, Clone)]
struct Policy {
    name: String,
    paths: Vec<PathRule>,
}

#[derive(Debug, Clone)]
struct Attachment {
    principal: String,
    policies: Vec<String>,
    loc: Loc,
    pointer: String,
}

/// Policies and attachments read so far (they may come from different files).
#[derive(Debug, Default)]
pub struct Policies {
    policies: Vec<Policy>,
    attachments: Vec<Attachment>,
}

/// Vault path globs: `*` at the end matches any rest, `+` one whole segment.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let (pat, prefix) = match pattern.strip_suffix('*') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    let psegs: Vec<&str> = pat.split('/').collect();
    let tsegs: Vec<&str> = path.split('/').collect();
    for (i, ps) in psegs.iter().enumerate() {
        let last = i + 1 == psegs.len();
        let Some(ts) = tsegs.get(i) else {
            return false;
        };
        if last && prefix {
            return ts.starts_with(ps);
        }
        if *ps == "+" {
            if ts.is_empty() {
                return false;
            }
            continue;
        }
        if ps != ts {
            return false;
        }
    }
    tsegs.len() == psegs.len()
}

/// Capabilities of the pre-0.9 `policy = "read"` form.
fn legacy_caps(p: &str) -> Vec<String> {
    let v: &[&str] = match p {
        "read" => &["read", "list"],
        "write" => &["create", "read", "update", "delete", "list"],
        "sudo" => &["create", "read", "update", "delete", "list", "sudo"],
        "deny" => &["deny"],
        _ => &[],
    };
    v.iter().map(|s| s.to_string()).collect()
}

fn hcl_strings(v: &HValue) -> Vec<String> {
    match v {
        HValue::Str(s) => vec![s.clone()],
        HValue::List(l) => l.iter().flat_map(hcl_strings).collect(),
        _ => Vec::new(),
    }
}

/// A policy file in HCL, named after the file (`payments.hcl` is policy `payments`).
pub fn hcl_file(text: &str, file: &str, data: &mut AccessData) -> Result<(), (usize, String)> {
    let name = std::path::Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().trim_end_matches(".hcl").to_string())
        .unwrap_or_else(|| file.to_string());
    hcl_policy(&name, text, file, 0, data)
        .map_err(|(line, e)| (line, format!("invalid Vault policy (HCL): {e}")))
}

/// An HCL policy. `embedded_line` is the line of the JSON string holding it (every rule is
/// placed there), or 0 for a policy file (each rule at its own line).
pub fn hcl_policy(
    name: &str,
    text: &str,
    file: &str,
    embedded_line: usize,
    data: &mut AccessData,
) -> Result<(), (usize, String)> {
    let items = hcl::parse(text).map_err(|(l, e)| {
        (
            if embedded_line > 0 { embedded_line } else { l },
            if embedded_line > 0 {
                format!("{e} (line {l} of the policy)")
            } else {
                e
            },
        )
    })?;
    let mut paths = Vec::new();
    for it in &items {
        if it.key != "path" {
            continue;
        }
        let Some(pattern) = it.labels.first() else {
            return Err((
                line_of(it, embedded_line),
                "path block without a path".into(),
            ));
        };
        let HValue::Block(body) = &it.value else {
            return Err((
                line_of(it, embedded_line),
                format!("path {pattern:?} is not a block"),
            ));
        };
        let mut caps = Vec::new();
        for b in body {
            match b.key.as_str() {
                "capabilities" => caps.extend(hcl_strings(&b.value)),
                "policy" => {
                    for p in hcl_strings(&b.value) {
                        caps.extend(legacy_caps(&p));
                    }
                }
                _ => {}
            }
        }
        paths.push(PathRule {
            pattern: pattern.clone(),
            caps,
            loc: Loc {
                file: file.to_string(),
                line: line_of(it, embedded_line),
            },
            pointer: format!("path \"{pattern}\""),
        });
    }
    data.vault.policies.push(Policy {
        name: name.to_string(),
        paths,
    });
    Ok(())
}

fn line_of(it: &HItem, embedded_line: usize) -> usize {
    if embedded_line > 0 {
        embedded_line
    } else {
        it.line
    }
}

/// The `vault-policy` JSON parser: policies (HCL in a string, or JSON syntax) and the roles,
/// tokens and entities that attach them, kept in [`AccessData::vault`] until
/// [`Policies::resolve`].
pub fn json_doc(v: &Value, cx: &DocCtx, data: &mut AccessData) -> Result<(), DocErrors> {
    super::each_object(v, None, |x, p, errs| one(x, p, cx, data, errs))
}

fn one(v: &Value, p: &str, cx: &DocCtx, data: &mut AccessData, errs: &mut DocErrors) {
    if !v.is_object() {
        errs.push((
            p.to_string(),
            format!("expected an object, found {}", kind_of(v)),
        ));
        return;
    }
    let d = v.get("data").filter(|d| d.is_object());
    let body = d.unwrap_or(v);
    let bp = if d.is_some() {
        ptr(p, "data")
    } else {
        p.to_string()
    };
    let stem = std::path::Path::new(cx.file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = s(v, "name")
        .or_else(|| s(body, "name"))
        .map(str::to_string)
        .unwrap_or(stem);
    // The policy text: `policy` (policy read, sys/policies/acl) or `rules` (sys/policy).
    for key in ["policy", "rules"] {
        match body.get(key) {
            Some(Value::String(text)) => {
                let sp = ptr(&bp, key);
                let line = cx.loc(&sp).line.max(1);
                if let Err((l, e)) = hcl_policy(&name, text, cx.file, line, data) {
                    let _ = l;
                    errs.push((sp, format!("invalid Vault policy {name}: {e}")));
                }
                return;
            }
            Some(Value::Object(_)) if key == "policy" => {
                let sp = ptr(&bp, key);
                json_policy(&name, &body[key], &sp, cx, data, errs);
                return;
            }
            _ => {}
        }
    }
    if body.get("path").is_some_and(Value::is_object) {
        json_policy(&name, body, &bp, cx, data, errs);
        return;
    }
    // What attaches policies: auth roles (`token_policies`), tokens and entities (`policies`).
    for key in ["token_policies", "policies", "identity_policies"] {
        if let Some(list) = body.get(key) {
            let Ok(policies) = super::strings(Some(list)) else {
                errs.push((ptr(&bp, key), format!("{key} is not a list of names")));
                return;
            };
            let principal = ["display_name", "role_name", "name", "path", "id"]
                .iter()
                .find_map(|k| s(body, k).or_else(|| s(v, k)))
                .map(|n| format!("vault:{n}"))
                .unwrap_or_else(|| format!("vault:{}:{}", cx.file, cx.loc(p).line));
            data.vault.attachments.push(Attachment {
                principal,
                policies,
                loc: cx.loc(&ptr(&bp, key)),
                pointer: ptr(&bp, key),
            });
            return;
        }
    }
    errs.push((
        p.to_string(),
        "not a Vault policy (no policy, rules or path) nor an attachment (no token_policies or policies)".into(),
    ));
}

/// JSON-syntax policy: `{"path": {"secret/*": {"capabilities": [...]}}}`.
fn json_policy(
    name: &str,
    v: &Value,
    p: &str,
    cx: &DocCtx,
    data: &mut AccessData,
    errs: &mut DocErrors,
) {
    let Some(Value::Object(paths)) = v.get("path") else {
        errs.push((
            p.to_string(),
            format!("policy {name} without a path object"),
        ));
        return;
    };
    let mut rules = Vec::new();
    for (pattern, body) in paths {
        let pp = ptr(&ptr(p, "path"), pattern);
        let mut caps = match super::strings(body.get("capabilities")) {
            Ok(c) => c,
            Err(e) => {
                errs.push((pp, format!("capabilities: {e}")));
                continue;
            }
        };
        if let Some(pol) = body.get("policy").and_then(Value::as_str) {
            caps.extend(legacy_caps(pol));
        }
        rules.push(PathRule {
            pattern: pattern.clone(),
            caps,
            loc: cx.loc(&pp),
            pointer: pp,
        });
    }
    data.vault.policies.push(Policy {
        name: name.to_string(),
        paths: rules,
    });
}

/// Span of a Vault path pattern over KV secrets: the first segment is the mount, then KV v2's
/// `data/` or `metadata/`.
fn path_span(pattern: &str) -> Span {
    let (mount, rest) = pattern.split_once('/').unwrap_or((pattern, ""));
    if mount.contains('*') || mount == "+" {
        return Span::All;
    }
    // Vault's own endpoints hold no secrets of the inventory's kind.
    if ["sys", "auth", "identity", "cubbyhole"].contains(&mount) {
        return Span::Narrow;
    }
    let name = rest
        .strip_prefix("data/")
        .or_else(|| rest.strip_prefix("metadata/"))
        .unwrap_or(rest);
    if rest.is_empty() || name.is_empty() {
        return if pattern.ends_with('*') {
            Span::All
        } else {
            Span::Narrow
        };
    }
    span(name, true)
}

impl Policies {
    /// Turns each policy's path rules into grants and PRV issues, then gives every principal
    /// the grants of the policies attached to it (a note for each policy not in the exports).
    pub fn resolve(self, data: &mut AccessData) {
        for pol in &self.policies {
            let subject = format!("vault-policy:{}", pol.name);
            for r in &pol.paths {
                if r.caps.iter().any(|c| c == "deny") {
                    continue;
                }
                let read = r.caps.iter().any(|c| c == "read");
                let list = r.caps.iter().any(|c| c == "list");
                let sudo = r.caps.iter().any(|c| c == "sudo");
                let evidence = vec![
                    ("policy", json!(pol.name)),
                    ("path", json!(r.pattern)),
                    ("capabilities", json!(r.caps)),
                ];
                let mut push = |check: CheckId, message: String| {
                    data.issues.push(Issue {
                        check,
                        subject: subject.clone(),
                        name: format!("policy {} path \"{}\"", pol.name, r.pattern),
                        message,
                        evidence: evidence.clone(),
                        loc: r.loc.clone(),
                        pointer: r.pointer.clone(),
                    })
                };
                if sudo {
                    push(
                        CheckId::Prv006,
                        format!(
                            "policy {} grants sudo on \"{}\": root-protected endpoints",
                            pol.name, r.pattern
                        ),
                    );
                }
                if read || list {
                    let what = if read { "read" } else { "list" };
                    match path_span(&r.pattern) {
                        Span::All => push(
                            CheckId::Prv001,
                            format!(
                                "policy {} can {what} \"{}\": every secret under the mount",
                                pol.name, r.pattern
                            ),
                        ),
                        Span::Broad => push(
                            CheckId::Prv002,
                            format!(
                                "policy {} can {what} \"{}\": a glob spanning a whole environment or every service",
                                pol.name, r.pattern
                            ),
                        ),
                        Span::Narrow => {}
                    }
                }
                if read {
                    data.grants.push(Grant {
                        provider: "vault",
                        principal: subject.clone(),
                        via: format!("policy {}", pol.name),
                        actions: r.caps.clone(),
                        resources: vec![r.pattern.clone()],
                        conditions: Vec::new(),
                        target: Target::Vault(vec![r.pattern.clone()]),
                        loc: r.loc.clone(),
                        pointer: r.pointer.clone(),
                    });
                }
            }
        }
        for a in &self.attachments {
            if a.policies.iter().any(|p| p == "root") {
                data.issues.push(Issue {
                    check: CheckId::Prv006,
                    subject: a.principal.clone(),
                    name: format!("{} policies", a.principal),
                    message: format!(
                        "{} is given the root policy: unrestricted access to all of Vault",
                        a.principal
                    ),
                    evidence: vec![("policies", json!(a.policies))],
                    loc: a.loc.clone(),
                    pointer: a.pointer.clone(),
                });
            }
            for pname in &a.policies {
                let key = format!("vault-policy:{pname}");
                let known = self.policies.iter().any(|p| &p.name == pname);
                if !known && pname != "root" && pname != "default" {
                    data.notes.push(BadRecord {
                        loc: a.loc.clone(),
                        error: format!("Vault policy {pname} attached to {} is not in the exports: not evaluated", a.principal),
                    });
                }
                let mut copies = Vec::new();
                for g in data
                    .grants
                    .iter()
                    .filter(|g| g.provider == "vault" && g.principal == key)
                {
                    let mut c = g.clone();
                    c.principal = a.principal.clone();
                    c.via = format!("{} attached to {}", g.via, a.principal);
                    copies.push(c);
                }
                data.grants.extend(copies);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_globs() {
        assert!(path_matches("secret/data/*", "secret/data/a/b"));
        assert!(path_matches("secret/data/+/db", "secret/data/prod/db"));
        assert!(!path_matches("secret/data/+/db", "secret/data/prod/x/db"));
        assert!(path_matches(
            "secret/data/prod/app*",
            "secret/data/prod/app1/x"
        ));
        assert!(!path_matches("secret/data/prod/*", "secret/data/dev/x"));
        assert!(path_matches("secret/data/exact", "secret/data/exact"));
        assert!(!path_matches("secret/data/exact", "secret/data/exact/more"));
        assert_eq!(path_span("secret/*"), Span::All);
        assert_eq!(path_span("secret/data/*"), Span::All);
        assert_eq!(path_span("*"), Span::All);
        assert_eq!(path_span("secret/data/prod/*"), Span::Broad);
        assert_eq!(path_span("secret/data/+/db"), Span::Broad);
        assert_eq!(path_span("secret/data/prod/payments/*"), Span::Narrow);
        assert_eq!(path_span("secret/data/prod/payments/db"), Span::Narrow);
        assert_eq!(path_span("sys/*"), Span::Narrow);
    }
}
