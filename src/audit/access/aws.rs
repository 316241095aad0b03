//! AWS: `aws iam get-account-authorization-details` (users, groups, roles and their inline
//! and managed policies) and Secrets Manager `get-resource-policy` (`ResourcePolicy` as a JSON
//! string), or a bare policy document.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{
    AccessData, DocCtx, DocErrors, Grant, Issue, Span, Target, condition_keys, glob, ptr, span,
    strings,
};
use crate::audit::checks::CheckId;
use crate::audit::inventory::{kind_of, s};

const READ_ACTION: &str = "secretsmanager:GetSecretValue";

/// AWS managed policies often left out of an export filtered to local policies; their
/// statements that matter here.
fn builtin_managed(arn: &str) -> Option<Value> {
    match arn.rsplit('/').next()? {
        "AdministratorAccess" if arn.starts_with("arn:aws:iam::aws:policy/") => Some(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        ),
        "SecretsManagerReadWrite" if arn.starts_with("arn:aws:iam::aws:policy/") => Some(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"}]}),
        ),
        _ => None,
    }
}

/// The account of an IAM or STS ARN, or a bare 12-digit account id.
fn account_of(p: &str) -> Option<&str> {
    if p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()) {
        return Some(p);
    }
    let parts: Vec<&str> = p.splitn(6, ':').collect();
    // `then`, not `then_some`: the account is only indexed once the ARN is known to have it.
    (parts.len() == 6 && parts[0] == "arn" && !parts[4].is_empty()).then(|| parts[4])
}

/// `ACCOUNT:role/NAME`, `ACCOUNT:user/NAME` or `ACCOUNT:root`: how grants and CloudTrail's
/// `userIdentity.arn` are compared (an assumed-role session is its role; paths are dropped).
pub fn principal_key(p: &str) -> Option<String> {
    if p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()) {
        return Some(format!("{p}:root"));
    }
    let parts: Vec<&str> = p.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" {
        return None;
    }
    let (acct, res) = (parts[4], parts[5]);
    let segs: Vec<&str> = res.split('/').collect();
    match (parts[2], segs.first().copied()) {
        (_, Some("root")) => Some(format!("{acct}:root")),
        ("iam", Some(kind @ ("role" | "user" | "group"))) if segs.len() >= 2 => {
            Some(format!("{acct}:{kind}/{}", segs[segs.len() - 1]))
        }
        ("sts", Some("assumed-role")) if segs.len() >= 2 => {
            Some(format!("{acct}:role/{}", segs[1]))
        }
        _ => None,
    }
}

/// A policy document: an object, a JSON string, or a URL-encoded JSON string (the IAM API's
/// own encoding, which some tools pass through).
fn document(v: &Value) -> Result<Value, String> {
    match v {
        Value::Object(_) => Ok(v.clone()),
        Value::String(t) => {
            let t = t.trim();
            let text = if t.starts_with('{') {
                t.to_string()
            } else {
                percent_decode(t).ok_or("policy document is neither JSON nor URL-encoded JSON")?
            };
            match serde_json::from_str::<Value>(&text) {
                Ok(d @ Value::Object(_)) => Ok(d),
                Ok(other) => Err(format!(
                    "policy document is {}, expected an object",
                    kind_of(&other)
                )),
                Err(e) => Err(format!("policy document is not valid JSON: {e}")),
            }
        }
        other => Err(format!(
            "policy document is {}, expected an object or a string",
            kind_of(other)
        )),
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Who a policy document belongs to.
enum Holder<'a> {
    /// An identity policy of a user, group or role (ARN).
    Identity { arn: &'a str, via: String },
    /// The resource policy of one secret (ARN or name).
    Secret {
        id: &'a str,
        account: Option<&'a str>,
    },
}

/// Span of a resource pattern over Secrets Manager secrets (None: not a Secrets Manager
/// resource).
fn resource_span(pattern: &str) -> Option<Span> {
    if pattern == "*" {
        return Some(Span::All);
    }
    let parts: Vec<&str> = pattern.splitn(7, ':').collect();
    if parts.first() != Some(&"arn") {
        return None;
    }
    if parts.len() < 7 {
        // `arn:aws:secretsmanager:*` and the like end in a wildcard before the name.
        let last = parts.last().copied().unwrap_or("");
        let service_ok = parts
            .get(2)
            .is_none_or(|sv| glob(sv, "secretsmanager", true));
        return (service_ok && last.contains('*')).then_some(Span::All);
    }
    if !glob(parts[2], "secretsmanager", true) || !glob(parts[5], "secret", true) {
        return None;
    }
    Some(span(parts[6], false))
}

fn statements(doc: &Value) -> Result<Vec<(usize, &Value)>, String> {
    match doc.get("Statement") {
        Some(Value::Array(a)) => Ok(a.iter().enumerate().collect()),
        Some(o @ Value::Object(_)) => Ok(vec![(usize::MAX, o)]),
        None => Err("policy document without Statement".into()),
        Some(other) => Err(format!(
            "Statement is {}, expected a list or an object",
            kind_of(other)
        )),
    }
}

/// Judges one policy document and records its grants and issues.
fn judge(
    holder: &Holder,
    doc: &Value,
    doc_ptr: &str,
    embedded: bool,
    cx: &DocCtx,
    data: &mut AccessData,
    errs: &mut DocErrors,
) {
    let base = if embedded {
        format!("{doc_ptr}#")
    } else {
        doc_ptr.to_string()
    };
    let sts = match statements(doc) {
        Ok(s) => s,
        Err(e) => {
            errs.push((doc_ptr.to_string(), e));
            return;
        }
    };
    for (i, st) in sts {
        let sp = if i == usize::MAX {
            ptr(&base, "Statement")
        } else {
            ptr(&ptr(&base, "Statement"), i)
        };
        if let Err(e) = statement(holder, st, &sp, cx, data) {
            errs.push((sp, e));
        }
    }
}

fn statement(
    holder: &Holder,
    st: &Value,
    sp: &str,
    cx: &DocCtx,
    data: &mut AccessData,
) -> Result<(), String> {
    if !st.is_object() {
        return Err(format!("statement is {}, expected an object", kind_of(st)));
    }
    let effect = s(st, "Effect").ok_or("statement without Effect")?;
    if !effect.eq_ignore_ascii_case("allow") {
        return Ok(());
    }
    let actions = strings(st.get("Action")).map_err(|e| format!("Action: {e}"))?;
    let not_actions = strings(st.get("NotAction")).map_err(|e| format!("NotAction: {e}"))?;
    let resources = strings(st.get("Resource")).map_err(|e| format!("Resource: {e}"))?;
    let not_resources = strings(st.get("NotResource")).map_err(|e| format!("NotResource: {e}"))?;
    let conditions = condition_keys(st.get("Condition"));
    let not_action = st.get("NotAction").is_some();
    let not_resource = st.get("NotResource").is_some();
    let reads = if not_action {
        !not_actions.iter().any(|a| glob(a, READ_ACTION, true))
    } else {
        actions.iter().any(|a| glob(a, READ_ACTION, true))
    };
    let admin = !not_action
        && actions.iter().any(|a| a == "*")
        && !not_resource
        && resources.iter().any(|r| r == "*");
    let loc = cx.loc(sp);
    let shown_actions = if not_action { &not_actions } else { &actions };
    let shown_resources = if not_resource {
        &not_resources
    } else {
        &resources
    };
    let evidence = |extra: Vec<(&'static str, Value)>| {
        let mut e = vec![
            ("statement", json!(sp)),
            (
                if not_action { "not_action" } else { "action" },
                json!(shown_actions),
            ),
            (
                if not_resource {
                    "not_resource"
                } else {
                    "resource"
                },
                json!(shown_resources),
            ),
            ("conditions", json!(conditions)),
        ];
        e.extend(extra);
        e
    };
    let sid = s(st, "Sid")
        .map(|x| format!(" (Sid {x})"))
        .unwrap_or_default();
    match holder {
        Holder::Identity { arn, via } => {
            let subject = arn.to_string();
            let name = format!("{via}{sid}");
            if not_action || not_resource || st.get("NotPrincipal").is_some() {
                data.issues.push(Issue {
                    check: CheckId::Prv005,
                    subject: subject.clone(),
                    name: name.clone(),
                    message: format!(
                        "{name} allows {} {} {}: everything except what is listed is allowed{}",
                        if not_action { "NotAction" } else { "Action" },
                        shown_actions.join(", "),
                        if not_resource {
                            format!("on NotResource {}", shown_resources.join(", "))
                        } else {
                            format!("on {}", shown_resources.join(", "))
                        },
                        if reads {
                            ", including secretsmanager:GetSecretValue"
                        } else {
                            ""
                        }
                    ),
                    evidence: evidence(vec![
                        ("policy", json!(via)),
                        ("reads_secrets", json!(reads)),
                    ]),
                    loc: loc.clone(),
                    pointer: sp.to_string(),
                });
            }
            if admin {
                data.issues.push(Issue {
                    check: CheckId::Prv006,
                    subject: subject.clone(),
                    name: name.clone(),
                    message: format!("{name} allows \"*\" on \"*\": full administrative access, every secret included"),
                    evidence: evidence(vec![("policy", json!(via))]),
                    loc: loc.clone(),
                    pointer: sp.to_string(),
                });
            }
            if !reads {
                return Ok(());
            }
            let widest = if not_resource {
                Some(Span::All)
            } else {
                resources
                    .iter()
                    .filter_map(|r| resource_span(r))
                    .min_by_key(|s| match s {
                        Span::All => 0,
                        Span::Broad => 1,
                        Span::Narrow => 2,
                    })
            };
            let Some(widest) = widest else {
                return Ok(());
            };
            // A condition (tag-based access: `secretsmanager:ResourceTag/app` matching the
            // caller's tag) is how wide patterns are scoped safely: the grant stays in the
            // access table as an upper bound, but is not judged wide.
            let wide = match widest {
                _ if !conditions.is_empty() => None,
                Span::All => Some((CheckId::Prv001, "every secret in the account")),
                Span::Broad => Some((
                    CheckId::Prv002,
                    "a whole environment's or service tier's secrets",
                )),
                Span::Narrow => None,
            };
            if let Some((check, what)) = wide {
                data.issues.push(Issue {
                    check,
                    subject: subject.clone(),
                    name: name.clone(),
                    message: format!(
                        "{name} allows secretsmanager:GetSecretValue (as {}) on {}: {what}",
                        shown_actions.join(", "),
                        shown_resources.join(", "),
                    ),
                    evidence: evidence(vec![("policy", json!(via))]),
                    loc: loc.clone(),
                    pointer: sp.to_string(),
                });
            }
            let patterns: Vec<String> = if not_resource {
                not_resources.clone()
            } else {
                resources.clone()
            };
            data.grants.push(Grant {
                provider: "aws",
                principal: subject,
                via: name,
                actions: shown_actions.clone(),
                resources: shown_resources.clone(),
                conditions,
                target: Target::AwsArns {
                    patterns,
                    not: not_resource,
                },
                loc,
                pointer: sp.to_string(),
            });
        }
        Holder::Secret { id, account } => {
            let mut principals = Vec::new();
            let mut anyone = false;
            let principal_field = st.get("Principal").or(st.get("NotPrincipal"));
            match principal_field {
                Some(Value::String(p)) if p == "*" => anyone = true,
                Some(Value::Object(m)) => {
                    for (kind, v) in m {
                        for p in strings(Some(v)).map_err(|e| format!("Principal.{kind}: {e}"))? {
                            if p == "*" && kind == "AWS" {
                                anyone = true;
                            } else if kind == "AWS" {
                                principals.push(p);
                            }
                        }
                    }
                }
                Some(other) => {
                    return Err(format!(
                        "Principal is {}, expected \"*\" or an object",
                        kind_of(other)
                    ));
                }
                None => {}
            }
            let name = format!("resource policy of {id}{sid}");
            if not_action || not_resource || st.get("NotPrincipal").is_some() {
                data.issues.push(Issue {
                    check: CheckId::Prv005,
                    subject: id.to_string(),
                    name: name.clone(),
                    message: format!(
                        "{name} uses {} with Allow: everything except what is listed is allowed",
                        [
                            (not_action, "NotAction"),
                            (not_resource, "NotResource"),
                            (st.get("NotPrincipal").is_some(), "NotPrincipal"),
                        ]
                        .iter()
                        .filter(|x| x.0)
                        .map(|x| x.1)
                        .collect::<Vec<_>>()
                        .join(" and ")
                    ),
                    evidence: evidence(vec![]),
                    loc: loc.clone(),
                    pointer: sp.to_string(),
                });
            }
            if anyone && conditions.is_empty() && st.get("NotPrincipal").is_none() {
                data.issues.push(Issue {
                    check: CheckId::Prv003,
                    subject: id.to_string(),
                    name: name.clone(),
                    message: format!(
                        "{name} allows {} to Principal \"*\" without a condition: any AWS account can call it{}",
                        shown_actions.join(", "),
                        if reads { ", and read the value" } else { "" }
                    ),
                    evidence: evidence(vec![("principal", json!("*"))]),
                    loc: loc.clone(),
                    pointer: sp.to_string(),
                });
            }
            if conditions.is_empty() {
                let foreign: Vec<&String> = principals
                    .iter()
                    .filter(|p| account.is_some_and(|a| account_of(p).is_some_and(|b| b != a)))
                    .collect();
                if !foreign.is_empty() {
                    data.issues.push(Issue {
                        check: CheckId::Prv004,
                        subject: id.to_string(),
                        name: name.clone(),
                        message: format!(
                            "{name} allows {} to another account ({}) without a condition",
                            shown_actions.join(", "),
                            foreign
                                .iter()
                                .map(|s| s.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        evidence: evidence(vec![("principals", json!(foreign))]),
                        loc: loc.clone(),
                        pointer: sp.to_string(),
                    });
                }
            }
            if reads && st.get("NotPrincipal").is_none() {
                if anyone {
                    principals.push("*".into());
                }
                // A bare document names its secrets in Resource; get-resource-policy's
                // Resource is the secret the policy is attached to.
                let target = if *id == cx.file && resources.iter().any(|r| r.starts_with("arn:")) {
                    Target::AwsArns {
                        patterns: resources.clone(),
                        not: false,
                    }
                } else {
                    Target::AwsSecret(id.to_string())
                };
                for p in principals {
                    let principal = if p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()) {
                        format!("arn:aws:iam::{p}:root")
                    } else {
                        p
                    };
                    data.grants.push(Grant {
                        provider: "aws",
                        principal,
                        via: name.clone(),
                        actions: shown_actions.clone(),
                        resources: vec![id.to_string()],
                        conditions: conditions.clone(),
                        target: target.clone(),
                        loc: loc.clone(),
                        pointer: sp.to_string(),
                    });
                }
            }
        }
    }
    Ok(())
}

/// `get-resource-policy` output, or a bare policy document (holder unknown: the file).
pub fn resource_policy(v: &Value, cx: &DocCtx, data: &mut AccessData) -> Result<(), DocErrors> {
    let mut errs = Vec::new();
    if let Value::Array(a) = v {
        for (i, x) in a.iter().enumerate() {
            if let Err(e) = one_resource_policy(x, &ptr("", i), cx, data) {
                errs.extend(e);
            }
        }
    } else if let Err(e) = one_resource_policy(v, "", cx, data) {
        errs.extend(e);
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

fn one_resource_policy(
    v: &Value,
    base: &str,
    cx: &DocCtx,
    data: &mut AccessData,
) -> Result<(), DocErrors> {
    let mut errs = Vec::new();
    if !v.is_object() {
        return Err(vec![(
            base.to_string(),
            format!("expected an object, found {}", kind_of(v)),
        )]);
    }
    if v.get("Statement").is_some() {
        // A bare document: its statements name their own resources.
        let holder = Holder::Secret {
            id: cx.file,
            account: None,
        };
        judge(&holder, v, base, false, cx, data, &mut errs);
    } else {
        let id = s(v, "ARN").or_else(|| s(v, "Name"));
        let Some(id) = id else {
            return Err(vec![(
                base.to_string(),
                "get-resource-policy output without ARN or Name".into(),
            )]);
        };
        let Some(rp) = v.get("ResourcePolicy") else {
            // A secret without a resource policy: nothing granted.
            return Ok(());
        };
        if rp.is_null() {
            return Ok(());
        }
        let dp = ptr(base, "ResourcePolicy");
        match document(rp) {
            Ok(doc) => {
                let holder = Holder::Secret {
                    id,
                    account: account_of(id),
                };
                judge(&holder, &doc, &dp, rp.is_string(), cx, data, &mut errs);
            }
            Err(e) => errs.push((dp, e)),
        }
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

/// `aws iam get-account-authorization-details`.
pub fn authorization_details(
    v: &Value,
    cx: &DocCtx,
    data: &mut AccessData,
) -> Result<(), DocErrors> {
    if !v.is_object() {
        return Err(vec![(
            String::new(),
            format!("expected an object, found {}", kind_of(v)),
        )]);
    }
    let mut errs: DocErrors = Vec::new();
    // Managed policies by ARN: the default version's document and where it is.
    let mut managed: HashMap<String, (Value, String, bool)> = HashMap::new();
    if let Some(Value::Array(ps)) = v.get("Policies") {
        for (i, p) in ps.iter().enumerate() {
            let pp = ptr("/Policies", i);
            let Some(arn) = s(p, "Arn") else {
                errs.push((pp, "managed policy without Arn".into()));
                continue;
            };
            let default = s(p, "DefaultVersionId");
            let Some(Value::Array(versions)) = p.get("PolicyVersionList") else {
                errs.push((
                    pp,
                    format!("managed policy {arn} without PolicyVersionList"),
                ));
                continue;
            };
            let found = versions.iter().enumerate().find(|(_, ver)| {
                ver.get("IsDefaultVersion").and_then(Value::as_bool) == Some(true)
                    || (default.is_some() && s(ver, "VersionId") == default)
            });
            match found {
                Some((vi, ver)) => {
                    let dp = ptr(&ptr(&ptr(&pp, "PolicyVersionList"), vi), "Document");
                    match ver.get("Document").map(document) {
                        Some(Ok(d)) => {
                            let embedded = ver.get("Document").is_some_and(Value::is_string);
                            managed.insert(arn.to_string(), (d, dp, embedded));
                        }
                        Some(Err(e)) => errs.push((dp, e)),
                        None => {
                            errs.push((dp, format!("default version of {arn} without Document")))
                        }
                    }
                }
                None => errs.push((
                    pp,
                    format!("managed policy {arn}: no default version in PolicyVersionList"),
                )),
            }
        }
    }
    let mut group_arns: HashMap<String, String> = HashMap::new();
    if let Some(Value::Array(gs)) = v.get("GroupDetailList") {
        for g in gs {
            if let (Some(n), Some(a)) = (s(g, "GroupName"), s(g, "Arn")) {
                group_arns.insert(n.to_string(), a.to_string());
            }
        }
    }
    for (list, inline_key, name_key) in [
        ("UserDetailList", "UserPolicyList", "UserName"),
        ("GroupDetailList", "GroupPolicyList", "GroupName"),
        ("RoleDetailList", "RolePolicyList", "RoleName"),
    ] {
        let Some(entries) = v.get(list) else { continue };
        let Value::Array(entries) = entries else {
            errs.push((
                ptr("", list),
                format!("{list} is {}, expected a list", kind_of(entries)),
            ));
            continue;
        };
        for (i, e) in entries.iter().enumerate() {
            let ep = ptr(&ptr("", list), i);
            let Some(arn) = s(e, "Arn") else {
                errs.push((ep, format!("{list} entry without Arn")));
                continue;
            };
            let who = s(e, name_key).unwrap_or(arn);
            if let Some(Value::Array(inl)) = e.get(inline_key) {
                for (j, p) in inl.iter().enumerate() {
                    let pp = ptr(&ptr(&ep, inline_key), j);
                    let pname = s(p, "PolicyName").unwrap_or("?");
                    let dp = ptr(&pp, "PolicyDocument");
                    match p.get("PolicyDocument").map(document) {
                        Some(Ok(doc)) => {
                            let holder = Holder::Identity {
                                arn,
                                via: format!("inline policy {pname} of {who}"),
                            };
                            let embedded = p.get("PolicyDocument").is_some_and(Value::is_string);
                            judge(&holder, &doc, &dp, embedded, cx, data, &mut errs);
                        }
                        Some(Err(e)) => errs.push((dp, e)),
                        None => {
                            errs.push((pp, format!("inline policy {pname} without PolicyDocument")))
                        }
                    }
                }
            }
            if let Some(Value::Array(att)) = e.get("AttachedManagedPolicies") {
                for (j, a) in att.iter().enumerate() {
                    let Some(parn) = s(a, "PolicyArn") else {
                        errs.push((
                            ptr(&ptr(&ep, "AttachedManagedPolicies"), j),
                            "attached policy without PolicyArn".into(),
                        ));
                        continue;
                    };
                    let holder = Holder::Identity {
                        arn,
                        via: format!("managed policy {parn} attached to {who}"),
                    };
                    if let Some((doc, dp, embedded)) = managed.get(parn) {
                        judge(&holder, doc, dp, *embedded, cx, data, &mut errs);
                    } else if let Some(doc) = builtin_managed(parn) {
                        let ap = ptr(&ptr(&ep, "AttachedManagedPolicies"), j);
                        judge(&holder, &doc, &ap, true, cx, data, &mut errs);
                    } else {
                        data.notes.push(crate::audit::inventory::BadRecord {
                            loc: cx.loc(&ptr(&ptr(&ep, "AttachedManagedPolicies"), j)),
                            error: format!(
                                "managed policy {parn} attached to {who} is not in the export (Policies): not evaluated"
                            ),
                        });
                    }
                }
            }
            // A user's groups: their grants are the user's too (for the access table).
            if list == "UserDetailList"
                && let Some(Value::Array(groups)) = e.get("GroupList")
            {
                for g in groups.iter().filter_map(Value::as_str) {
                    if let Some(garn) = group_arns.get(g) {
                        data.group_members.push((garn.clone(), arn.to_string()));
                    }
                }
            }
        }
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}
