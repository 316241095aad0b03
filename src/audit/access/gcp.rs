//! GCP IAM policies: `gcloud projects get-iam-policy P --format=json` and
//! `gcloud secrets get-iam-policy S --format=json` (`{"bindings": […], "etag": …}`), either bare
//! (then it is read as a project policy of an unnamed project) or wrapped with the resource
//! it belongs to (`{"resource": "projects/P/secrets/S", "policy": {…}}`, the shape of
//! `gcloud asset search-all-iam-policies` results).

use serde_json::{Value, json};

use super::{AccessData, DocCtx, DocErrors, Grant, Issue, Target, ptr, strings};
use crate::audit::checks::CheckId;
use crate::audit::inventory::{kind_of, s};

/// Roles that can read secret payloads.
fn reads(role: &str) -> bool {
    matches!(
        role,
        "roles/secretmanager.secretAccessor"
            | "roles/secretmanager.admin"
            | "roles/owner"
            | "roles/editor"
    )
}

/// `//cloudresourcemanager.googleapis.com/projects/P`, `projects/P`, or a secret's name.
fn scope(resource: &str) -> (Option<String>, Option<String>) {
    let r = resource
        .strip_prefix("//")
        .and_then(|x| x.split_once('/').map(|(_, rest)| rest))
        .unwrap_or(resource);
    let parts: Vec<&str> = r.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["projects", p, "secrets", sname, ..] => (
            Some(p.to_string()),
            Some(format!("projects/{p}/secrets/{sname}")),
        ),
        ["projects", p, ..] => (Some(p.to_string()), None),
        _ => (None, None),
    }
}

fn default_service_account(member: &str) -> bool {
    let m = member.to_ascii_lowercase();
    m.starts_with("serviceaccount:")
        && (m.ends_with("-compute@developer.gserviceaccount.com")
            || m.ends_with("@appspot.gserviceaccount.com"))
}

/// The `gcp-iam` parser: one IAM policy, a list of them, or search results under `results`.
pub fn policy(v: &Value, cx: &DocCtx, data: &mut AccessData) -> Result<(), DocErrors> {
    super::each_object(v, Some("results"), |x, p, errs| one(x, p, cx, data, errs))
}

fn one(v: &Value, p: &str, cx: &DocCtx, data: &mut AccessData, errs: &mut DocErrors) {
    if !v.is_object() {
        errs.push((
            p.to_string(),
            format!("expected an IAM policy object, found {}", kind_of(v)),
        ));
        return;
    }
    let (pol, pp, resource) = match v.get("policy") {
        Some(inner @ Value::Object(_)) => (
            inner,
            ptr(p, "policy"),
            s(v, "resource").or_else(|| s(v, "name")),
        ),
        _ => (v, p.to_string(), None),
    };
    let (project, secret) = resource.map(scope).unwrap_or((None, None));
    let where_ = match (&secret, &project) {
        (Some(sname), _) => sname.clone(),
        (None, Some(pr)) => format!("projects/{pr}"),
        (None, None) => format!("the project of {}", cx.file),
    };
    let bindings = match pol.get("bindings") {
        None | Some(Value::Null) => return,
        Some(Value::Array(b)) => b,
        Some(other) => {
            errs.push((
                ptr(&pp, "bindings"),
                format!("bindings is {}, expected a list", kind_of(other)),
            ));
            return;
        }
    };
    for (i, b) in bindings.iter().enumerate() {
        let bp = ptr(&ptr(&pp, "bindings"), i);
        let Some(role) = s(b, "role") else {
            errs.push((bp, "binding without role".into()));
            continue;
        };
        let members = match strings(b.get("members")) {
            Ok(m) => m,
            Err(e) => {
                errs.push((bp, format!("members: {e}")));
                continue;
            }
        };
        let conditions: Vec<String> = b
            .get("condition")
            .filter(|c| c.is_object())
            .map(|c| {
                vec![
                    s(c, "title")
                        .or_else(|| s(c, "expression"))
                        .unwrap_or("condition")
                        .to_string(),
                ]
            })
            .unwrap_or_default();
        let loc = cx.loc(&bp);
        let reading = reads(role);
        for m in &members {
            let public = m == "allUsers" || m == "allAuthenticatedUsers";
            let evidence = vec![
                ("role", json!(role)),
                ("member", json!(m)),
                ("resource", json!(where_)),
                ("conditions", json!(conditions)),
            ];
            let mut push = |check: CheckId, subject: String, message: String| {
                data.issues.push(Issue {
                    check,
                    subject,
                    name: format!("{role} on {where_}"),
                    message,
                    evidence: evidence.clone(),
                    loc: loc.clone(),
                    pointer: bp.clone(),
                })
            };
            if public && (reading || role.starts_with("roles/secretmanager.")) {
                let subject = secret.clone().unwrap_or_else(|| where_.clone());
                push(
                    CheckId::Prv003,
                    subject,
                    format!(
                        "{m} is given {role} on {where_}: {}",
                        if m == "allUsers" {
                            "anyone on the internet"
                        } else {
                            "any Google account"
                        }
                    ),
                );
            }
            if !reading {
                continue;
            }
            if default_service_account(m) {
                push(
                    CheckId::Prv007,
                    m.clone(),
                    format!(
                        "{m} (a default service account, used by every workload that names none) is given {role} on {where_}"
                    ),
                );
            }
            // An IAM condition (`resource.name.startsWith(…)`) scopes a project-level grant.
            if secret.is_none() && !public && conditions.is_empty() {
                push(
                    CheckId::Prv001,
                    m.clone(),
                    format!(
                        "{m} is given {role} at project level ({where_}): it can read every secret in the project{}",
                        if conditions.is_empty() {
                            String::new()
                        } else {
                            format!(" (condition: {})", conditions.join(", "))
                        }
                    ),
                );
            }
            data.grants.push(Grant {
                provider: "gcp",
                principal: m.clone(),
                via: format!("{role} on {where_}"),
                actions: vec![role.to_string()],
                resources: vec![where_.clone()],
                conditions: conditions.clone(),
                target: Target::Gcp {
                    project: project.clone(),
                    secret: secret.clone(),
                },
                loc: loc.clone(),
                pointer: bp.clone(),
            });
        }
    }
}
