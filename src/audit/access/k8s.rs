//! Kubernetes RBAC: `kubectl get roles,clusterroles,rolebindings,clusterrolebindings -A -o json`
//! (a List), single objects, or arrays of them. Roles and bindings may come from different
//! files; they are joined once everything is read.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{AccessData, DocCtx, DocErrors, Grant, Issue, Target, ptr, strings};
use crate::audit::checks::CheckId;
use crate::audit::inventory::{BadRecord, kind_of, s};
use crate::audit::model::Loc;

const READ_VERBS: [&str; 4] = ["get", "list", "watch", "*"];

#[derive(Debug, Clone)]
struct Rule {
    api_groups: Vec<String>,
    resources: Vec<String>,
    verbs: Vec<String>,
    names: Vec<String>,
    loc: Loc,
}

impl Rule {
    fn core(&self) -> bool {
        self.api_groups.iter().any(|g| g.is_empty() || g == "*")
    }
    /// Reading Secret values: `list` and `watch` return them as well as `get`.
    fn reads_secrets(&self) -> bool {
        self.core()
            && self.resources.iter().any(|r| r == "secrets" || r == "*")
            && self.verbs.iter().any(|v| READ_VERBS.contains(&v.as_str()))
    }
    fn everything(&self) -> bool {
        self.api_groups.iter().any(|g| g == "*")
            && self.resources.iter().any(|r| r == "*")
            && self.verbs.iter().any(|v| v == "*")
    }
}

#[derive(Debug, Clone)]
struct Binding {
    cluster: bool,
    namespace: String,
    name: String,
    role_kind: String,
    role_name: String,
    subjects: Vec<(String, String, Option<String>, Loc)>,
    loc: Loc,
    pointer: String,
}

/// Roles and bindings read so far.
#[derive(Debug, Default)]
pub struct Rbac {
    /// (cluster-scoped, namespace, name) → rules and where the role is.
    roles: HashMap<(bool, String, String), (Vec<Rule>, Loc)>,
    bindings: Vec<Binding>,
}

/// Default cluster roles an export may leave out, as far as Secrets go.
fn builtin_role(name: &str, loc: &Loc) -> Option<Vec<Rule>> {
    let rule = |verbs: &[&str], resources: &[&str], groups: &[&str]| Rule {
        api_groups: groups.iter().map(|s| s.to_string()).collect(),
        resources: resources.iter().map(|s| s.to_string()).collect(),
        verbs: verbs.iter().map(|s| s.to_string()).collect(),
        names: Vec::new(),
        loc: loc.clone(),
    };
    match name {
        "cluster-admin" => Some(vec![rule(&["*"], &["*"], &["*"])]),
        "admin" | "edit" => Some(vec![rule(&["get", "list", "watch"], &["secrets"], &[""])]),
        "view" => Some(Vec::new()),
        _ => None,
    }
}

/// The `k8s-rbac` parser: a List, an array or one object; roles and bindings are kept in
/// [`AccessData::k8s`] until [`Rbac::resolve`] joins them.
pub fn objects(v: &Value, cx: &DocCtx, data: &mut AccessData) -> Result<(), DocErrors> {
    let mut errs = Vec::new();
    match v {
        Value::Array(a) => {
            for (i, o) in a.iter().enumerate() {
                one(o, &ptr("", i), cx, data, &mut errs);
            }
        }
        Value::Object(_) if v.get("items").is_some() => match v.get("items") {
            Some(Value::Array(a)) => {
                for (i, o) in a.iter().enumerate() {
                    one(o, &ptr("/items", i), cx, data, &mut errs);
                }
            }
            Some(Value::Null) => {}
            Some(other) => errs.push((
                "/items".into(),
                format!("items is {}, expected a list", kind_of(other)),
            )),
            None => {}
        },
        _ => one(v, "", cx, data, &mut errs),
    }
    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

fn one(o: &Value, p: &str, cx: &DocCtx, data: &mut AccessData, errs: &mut DocErrors) {
    if !o.is_object() {
        errs.push((
            p.to_string(),
            format!("expected a Kubernetes object, found {}", kind_of(o)),
        ));
        return;
    }
    let kind = s(o, "kind").unwrap_or("");
    let meta = o.get("metadata");
    let name = meta.and_then(|m| s(m, "name"));
    let namespace = meta.and_then(|m| s(m, "namespace")).unwrap_or("default");
    let loc = cx.loc(p);
    match kind {
        "Role" | "ClusterRole" => {
            let Some(name) = name else {
                errs.push((p.to_string(), format!("{kind} without metadata.name")));
                return;
            };
            let mut rules = Vec::new();
            match o.get("rules") {
                None | Some(Value::Null) => {}
                Some(Value::Array(rs)) => {
                    for (i, r) in rs.iter().enumerate() {
                        let rp = ptr(&ptr(p, "rules"), i);
                        let get = |k: &str| strings(r.get(k)).map_err(|e| format!("{k}: {e}"));
                        match (
                            get("apiGroups"),
                            get("resources"),
                            get("verbs"),
                            get("resourceNames"),
                        ) {
                            (Ok(api_groups), Ok(resources), Ok(verbs), Ok(names)) => {
                                rules.push(Rule {
                                    api_groups,
                                    resources,
                                    verbs,
                                    names,
                                    loc: cx.loc(&rp),
                                })
                            }
                            (a, b, c, d) => {
                                for e in [a.err(), b.err(), c.err(), d.err()].into_iter().flatten()
                                {
                                    errs.push((rp.clone(), e));
                                }
                            }
                        }
                    }
                }
                Some(other) => {
                    errs.push((
                        ptr(p, "rules"),
                        format!("rules is {}, expected a list", kind_of(other)),
                    ));
                    return;
                }
            }
            let cluster = kind == "ClusterRole";
            let ns = if cluster {
                String::new()
            } else {
                namespace.to_string()
            };
            data.k8s
                .roles
                .insert((cluster, ns, name.to_string()), (rules, loc));
        }
        "RoleBinding" | "ClusterRoleBinding" => {
            let Some(name) = name else {
                errs.push((p.to_string(), format!("{kind} without metadata.name")));
                return;
            };
            let role_ref = o.get("roleRef");
            let (Some(rk), Some(rn)) = (
                role_ref.and_then(|r| s(r, "kind")),
                role_ref.and_then(|r| s(r, "name")),
            ) else {
                errs.push((
                    p.to_string(),
                    format!("{kind} {name} without roleRef.kind and roleRef.name"),
                ));
                return;
            };
            // The API server's own defaults (`kubernetes.io/bootstrapping: rbac-defaults`) and
            // `system:` roles are how the control plane works, not a choice to review.
            let bootstrap = meta
                .and_then(|m| m.get("labels"))
                .and_then(|l| s(l, "kubernetes.io/bootstrapping"))
                == Some("rbac-defaults");
            if bootstrap || rn.starts_with("system:") {
                return;
            }
            let mut subjects = Vec::new();
            match o.get("subjects") {
                None | Some(Value::Null) => {}
                Some(Value::Array(ss)) => {
                    for (i, sub) in ss.iter().enumerate() {
                        let sp = ptr(&ptr(p, "subjects"), i);
                        match (s(sub, "kind"), s(sub, "name")) {
                            (Some(k), Some(n)) => subjects.push((
                                k.to_string(),
                                n.to_string(),
                                s(sub, "namespace").map(str::to_string),
                                cx.loc(&sp),
                            )),
                            _ => errs.push((sp, "subject without kind and name".into())),
                        }
                    }
                }
                Some(other) => {
                    errs.push((
                        ptr(p, "subjects"),
                        format!("subjects is {}, expected a list", kind_of(other)),
                    ));
                    return;
                }
            }
            data.k8s.bindings.push(Binding {
                cluster: kind == "ClusterRoleBinding",
                namespace: namespace.to_string(),
                name: name.to_string(),
                role_kind: rk.to_string(),
                role_name: rn.to_string(),
                subjects,
                loc,
                pointer: p.to_string(),
            });
        }
        other => data.notes.push(BadRecord {
            loc,
            error: format!(
                "Kubernetes object of kind {other:?} is not an RBAC object: not evaluated"
            ),
        }),
    }
}

impl Rbac {
    /// Joins each binding to its role and judges what every subject is given.
    pub fn resolve(self, data: &mut AccessData) {
        for b in &self.bindings {
            let cluster_role = b.role_kind == "ClusterRole";
            let key = if cluster_role {
                (true, String::new(), b.role_name.clone())
            } else {
                (false, b.namespace.clone(), b.role_name.clone())
            };
            let builtin;
            let (rules, role_loc) =
                match self.roles.get(&key) {
                    Some((r, l)) => (r, l.clone()),
                    None => match cluster_role
                        .then(|| builtin_role(&b.role_name, &b.loc))
                        .flatten()
                    {
                        Some(r) => {
                            builtin = r;
                            (&builtin, b.loc.clone())
                        }
                        None => {
                            data.notes.push(BadRecord {
                            loc: b.loc.clone(),
                            error: format!(
                                "{} {} refers to {} {} which is not in the export: not evaluated",
                                if b.cluster { "ClusterRoleBinding" } else { "RoleBinding" },
                                b.name,
                                b.role_kind,
                                b.role_name
                            ),
                        });
                            continue;
                        }
                    },
                };
            let read_rules: Vec<&Rule> = rules.iter().filter(|r| r.reads_secrets()).collect();
            let everything = rules.iter().any(Rule::everything);
            if read_rules.is_empty() && !everything {
                continue;
            }
            // A ClusterRole bound by a ClusterRoleBinding reaches every namespace.
            let scope_ns = (!b.cluster).then(|| b.namespace.clone());
            let via = format!(
                "{} {} bound by {} {}{}",
                b.role_kind,
                b.role_name,
                if b.cluster {
                    "ClusterRoleBinding"
                } else {
                    "RoleBinding"
                },
                if b.cluster {
                    String::new()
                } else {
                    format!("{}/", b.namespace)
                },
                b.name
            );
            let names: Vec<String> = if read_rules.iter().any(|r| r.names.is_empty()) {
                Vec::new()
            } else {
                read_rules.iter().flat_map(|r| r.names.clone()).collect()
            };
            let verbs: Vec<String> = read_rules.iter().flat_map(|r| r.verbs.clone()).collect();
            let rule_at: Vec<String> = read_rules
                .iter()
                .map(|r| format!("{}:{}", r.loc.file, r.loc.line))
                .collect();
            let scope_text = match &scope_ns {
                None => "in every namespace".to_string(),
                Some(ns) => format!("in namespace {ns}"),
            };
            for (kind, name, sns, sloc) in &b.subjects {
                let principal = match kind.as_str() {
                    "ServiceAccount" => format!(
                        "k8s:serviceaccount:{}/{name}",
                        sns.as_deref().unwrap_or(&b.namespace)
                    ),
                    "User" => format!("k8s:user:{name}"),
                    "Group" => format!("k8s:group:{name}"),
                    other => format!("k8s:{}:{name}", other.to_ascii_lowercase()),
                };
                let evidence = vec![
                    ("binding", json!(via)),
                    ("verbs", json!(verbs)),
                    ("resource_names", json!(names)),
                    ("namespace", json!(scope_ns)),
                    ("rules", json!(rule_at)),
                    (
                        "role_location",
                        json!(format!("{}:{}", role_loc.file, role_loc.line)),
                    ),
                ];
                let mut push = |check: CheckId, message: String| {
                    data.issues.push(Issue {
                        check,
                        subject: principal.clone(),
                        name: via.clone(),
                        message,
                        evidence: evidence.clone(),
                        loc: sloc.clone(),
                        pointer: b.pointer.clone(),
                    })
                };
                let public = matches!(
                    (kind.as_str(), name.as_str()),
                    ("Group", "system:authenticated" | "system:unauthenticated")
                        | ("User", "system:anonymous")
                );
                let default_sa = (kind == "ServiceAccount" && name == "default")
                    || (kind == "Group"
                        && (name == "system:serviceaccounts"
                            || name.starts_with("system:serviceaccounts:")));
                let masters = kind == "Group" && name == "system:masters";
                if everything && !masters {
                    push(
                        CheckId::Prv006,
                        format!(
                            "{principal} is given every verb on every resource ({via}) {scope_text}, Secrets included"
                        ),
                    );
                }
                if read_rules.is_empty() {
                    continue;
                }
                let what = if names.is_empty() {
                    "all Secrets".to_string()
                } else {
                    format!("Secrets {}", names.join(", "))
                };
                if public {
                    push(
                        CheckId::Prv003,
                        format!(
                            "{principal} (anyone{} the cluster) can {} {what} {scope_text} ({via})",
                            if name == "system:authenticated" {
                                " with an identity in"
                            } else {
                                " who can reach"
                            },
                            verbs.join("/")
                        ),
                    );
                }
                if default_sa {
                    push(
                        CheckId::Prv007,
                        format!(
                            "{principal} (a default service account: every pod that names no account runs as it) can {} {what} {scope_text} ({via})",
                            verbs.join("/")
                        ),
                    );
                }
                if scope_ns.is_none() && names.is_empty() {
                    push(
                        CheckId::Prv001,
                        format!(
                            "{principal} can {} Secrets in every namespace ({via})",
                            verbs.join("/")
                        ),
                    );
                }
                data.grants.push(Grant {
                    provider: "k8s",
                    principal: principal.clone(),
                    via: via.clone(),
                    actions: verbs.clone(),
                    resources: if names.is_empty() {
                        vec!["secrets".into()]
                    } else {
                        names.clone()
                    },
                    conditions: Vec::new(),
                    target: Target::K8s {
                        namespace: scope_ns.clone(),
                        names: names.clone(),
                    },
                    loc: sloc.clone(),
                    pointer: b.pointer.clone(),
                });
            }
        }
    }
}
