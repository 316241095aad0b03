//! Least privilege from access-policy exports (`--policy-doc`): each provider's documented
//! shape, generated here with fake accounts, and the PRV results, effective-access table and
//! partial-audit handling they lead to.

use crate::common_audit;
use common_audit::*;

use serde_json::{Value, json};

const ACCT: &str = "123456789012";

fn pretty(v: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(v).expect("json")
}

fn run(docs: &[String], inv: &[String], logs: &[String]) -> Report {
    let mut a = args(inv, logs, &[], None);
    a.policy_doc = docs.to_vec();
    audit_with(a)
}

/// Line (1-based) of the first line of `text` holding `needle`.
fn line_of(text: &[u8], needle: &str) -> u64 {
    String::from_utf8_lossy(text)
        .lines()
        .position(|l| l.contains(needle))
        .map(|i| i as u64 + 1)
        .expect("needle in fixture")
}

fn role(name: &str) -> String {
    format!("arn:aws:iam::{ACCT}:role/{name}")
}

fn secret_arn(name: &str) -> String {
    format!("arn:aws:secretsmanager:us-east-1:{ACCT}:secret:{name}")
}

fn stmt(sid: &str, action: Value, resource: Value) -> Value {
    json!({"Sid": sid, "Effect": "Allow", "Action": action, "Resource": resource})
}

fn doc(statements: Vec<Value>) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `aws iam get-account-authorization-details`: users, a group, roles, local managed
/// policies (one with a URL-encoded document, one whose non-default version is the wide one).
fn authorization_details() -> Value {
    let ci_doc = doc(vec![stmt("CiAll", json!("secretsmanager:*"), json!("*"))]);
    json!({
        "UserDetailList": [{
            "UserName": "alice", "UserId": "AIDAFAKEALICE", "Path": "/",
            "Arn": format!("arn:aws:iam::{ACCT}:user/alice"),
            "GroupList": ["admins"], "UserPolicyList": [], "AttachedManagedPolicies": []
        }],
        "GroupDetailList": [{
            "GroupName": "admins", "Path": "/",
            "Arn": format!("arn:aws:iam::{ACCT}:group/admins"),
            "GroupPolicyList": [],
            "AttachedManagedPolicies": [{"PolicyName": "AdministratorAccess", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}]
        }],
        "RoleDetailList": [
            {"RoleName": "app-reader", "Path": "/service/", "Arn": format!("arn:aws:iam::{ACCT}:role/service/app-reader"),
             "RolePolicyList": [{"PolicyName": "read-own", "PolicyDocument": doc(vec![
                 stmt("ReadOwn", json!(["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]),
                      json!(format!("arn:aws:secretsmanager:us-east-1:{ACCT}:secret:prod/payments/*"))),
                 json!({"Sid": "DenyDev", "Effect": "Deny", "Action": "*", "Resource": "*"})
             ])}],
             "AttachedManagedPolicies": []},
            {"RoleName": "ci", "Path": "/", "Arn": role("ci"),
             "RolePolicyList": [],
             "AttachedManagedPolicies": [{"PolicyName": "ci-secrets", "PolicyArn": format!("arn:aws:iam::{ACCT}:policy/ci-secrets")}]},
            {"RoleName": "ops", "Path": "/", "Arn": role("ops"),
             "RolePolicyList": [{"PolicyName": "prod-wide", "PolicyDocument": doc(vec![
                 stmt("ProdWide", json!("secretsmanager:Get*"), json!("arn:aws:secretsmanager:*:*:secret:prod/*"))
             ])}],
             "AttachedManagedPolicies": [{"PolicyName": "narrow", "PolicyArn": format!("arn:aws:iam::{ACCT}:policy/narrow")}]},
            {"RoleName": "abac", "Path": "/", "Arn": role("abac"),
             "RolePolicyList": [{"PolicyName": "by-tag", "PolicyDocument": doc(vec![
                 json!({"Sid": "ByTag", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
                        "Condition": {"StringEquals": {"secretsmanager:ResourceTag/app": "${aws:PrincipalTag/app}"}}})
             ])}],
             "AttachedManagedPolicies": []},
            {"RoleName": "weird", "Path": "/", "Arn": role("weird"),
             "RolePolicyList": [{"PolicyName": "not-iam", "PolicyDocument": doc(vec![
                 json!({"Sid": "AllButIam", "Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
             ])}],
             "AttachedManagedPolicies": []}
        ],
        "Policies": [
            {"PolicyName": "ci-secrets", "Arn": format!("arn:aws:iam::{ACCT}:policy/ci-secrets"), "DefaultVersionId": "v1",
             "AttachmentCount": 1,
             "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true,
                                    "Document": url_encode(&ci_doc.to_string())}]},
            {"PolicyName": "narrow", "Arn": format!("arn:aws:iam::{ACCT}:policy/narrow"), "DefaultVersionId": "v2",
             "AttachmentCount": 1,
             "PolicyVersionList": [
                {"VersionId": "v1", "IsDefaultVersion": false, "Document": doc(vec![stmt("OldWide", json!("*"), json!("*"))])},
                {"VersionId": "v2", "IsDefaultVersion": true, "Document": doc(vec![stmt("Describe", json!("secretsmanager:DescribeSecret"), json!("*"))])}
             ]}
        ]
    })
}

#[test]
fn aws_authorization_details_flags_wide_grants_per_holder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = pretty(&authorization_details());
    let f = write(dir.path(), "auth.json", &data);
    let r = run(&[f], &[], &[]);
    let group = format!("arn:aws:iam::{ACCT}:group/admins");
    assert_eq!(
        r.fails(),
        expect(&[
            ("PRV-001", &role("ci")),
            ("PRV-001", &group),
            ("PRV-006", &group),
            ("PRV-002", &role("ops")),
            ("PRV-001", &role("weird")),
            ("PRV-005", &role("weird")),
        ]),
        "{:#}",
        r.json["results"]
    );
    // Service-scoped read, denies and a wide non-default version are not findings.
    let prv2 = r.result("PRV-002", &role("ops"));
    assert_eq!(
        prv2["location"]["line"],
        line_of(&data, "\"Sid\": \"ProdWide\"") - 4
    );
    assert!(
        prv2["evidence"]["statement"]
            .as_str()
            .unwrap()
            .contains("/RoleDetailList/2/RolePolicyList/0/PolicyDocument/Statement/0")
    );
    assert_eq!(prv2["controls"][0], "NIST SP 800-53 AC-6 (least privilege)");
    let admin = r.result("PRV-006", &group);
    assert!(
        admin["controls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().contains("1.16"))
    );
    assert_eq!(input(&r, "auth.json")["format"], "aws-iam-auth");
    assert_eq!(input(&r, "auth.json")["role"], "policy-doc");
    assert_eq!(r.code, 1);
    assert!(r.errors().is_empty(), "{:?}", r.errors());
}

fn resource_policies() -> Vec<u8> {
    let one = |name: &str, statement: Value| {
        json!({
            "ARN": secret_arn(name),
            "Name": name.rsplit_once('-').unwrap().0,
            "ResourcePolicy": doc(vec![statement]).to_string(),
        })
    };
    // A shell loop over `get-resource-policy`: documents one after another.
    let mut out = Vec::new();
    for v in [
        one(
            "prod/public-Aa1111",
            json!({"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}),
        ),
        one(
            "prod/shared-Bb2222",
            json!({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}),
        ),
        one(
            "prod/org-Cc3333",
            json!({"Effect": "Allow", "Principal": "*", "Action": "secretsmanager:GetSecretValue", "Resource": "*",
                                       "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-fake12345"}}}),
        ),
        one(
            "prod/same-Dd4444",
            json!({"Effect": "Allow", "Principal": {"AWS": role("app")}, "Action": "secretsmanager:GetSecretValue", "Resource": "*"}),
        ),
    ] {
        out.extend(pretty(&v));
        out.push(b'\n');
    }
    out.extend(b"{\"ARN\": \"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/none-Ee5555\", \"Name\": \"prod/none\"}\n");
    out
}

#[test]
fn aws_secret_resource_policies_public_and_cross_account() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = resource_policies();
    let f = write(dir.path(), "resource-policies.json", &data);
    let r = run(&[f], &[], &[]);
    assert_eq!(
        r.fails(),
        expect(&[
            ("PRV-003", &secret_arn("prod/public-Aa1111")),
            ("PRV-004", &secret_arn("prod/shared-Bb2222")),
        ]),
        "{:#}",
        r.json["results"]
    );
    let public = r.result("PRV-003", &secret_arn("prod/public-Aa1111"));
    assert_eq!(public["severity"], "critical");
    // The statement sits in the ResourcePolicy string: that is its line.
    assert_eq!(public["location"]["line"], line_of(&data, "ResourcePolicy"));
    assert!(
        public["evidence"]["statement"]
            .as_str()
            .unwrap()
            .ends_with("/ResourcePolicy#/Statement/0")
    );
    assert_eq!(r.json["summary"]["partial"], false);
}

fn list_secrets() -> Value {
    let s = |name: &str| {
        json!({"ARN": secret_arn(name), "Name": name.rsplit_once('-').unwrap().0, "CreatedDate": "2026-09-01T00:00:00Z",
                               "LastChangedDate": "2026-09-01T00:00:00Z"})
    };
    json!({"SecretList": [s("prod/payments/db-Ab1234"), s("prod/api/key-Bc1234"), s("dev/tool-Cd1234"), s("prod/shared-Bb2222")]})
}

fn trail() -> Value {
    let ev = |who: &str, secret: &str, t: &str| {
        json!({"eventVersion": "1.08", "eventTime": t, "eventSource": "secretsmanager.amazonaws.com",
               "eventName": "GetSecretValue", "awsRegion": "us-east-1",
               "userIdentity": {"type": "AssumedRole", "arn": who, "accountId": ACCT},
               "requestParameters": {"secretId": secret}})
    };
    json!({"Records": [
        ev(&format!("arn:aws:sts::{ACCT}:assumed-role/app-reader/i-0fake"), &secret_arn("prod/payments/db-Ab1234"), "2026-10-20T10:00:00Z"),
        ev(&format!("arn:aws:sts::{ACCT}:assumed-role/ci/build-7"), "prod/api/key", "2026-10-30T10:00:00Z"),
    ]})
}

#[test]
fn effective_access_table_and_grants_beyond_use() {
    let dir = tempfile::tempdir().expect("tempdir");
    let auth = write(dir.path(), "auth.json", &pretty(&authorization_details()));
    let rp = write(dir.path(), "rp.json", &resource_policies());
    let inv = write(dir.path(), "sm.json", &pretty(&list_secrets()));
    let log = write(dir.path(), "trail.json", &pretty(&trail()));
    let r = run(&[auth, rp], &[inv], &[log]);
    let table = &r.json["access"];
    let readers = |id: &str| -> Vec<(String, Value)> {
        table["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["secret_id"] == id)
            .map(|s| {
                s["readers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| {
                        (
                            x["principal"].as_str().unwrap().to_string(),
                            x["read_in_logs"].clone(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let db = readers(&secret_arn("prod/payments/db-Ab1234"));
    let app = format!("arn:aws:iam::{ACCT}:role/service/app-reader");
    assert!(db.contains(&(app.clone(), json!(true))), "{db:?}");
    assert!(db.contains(&(role("ci"), json!(false))), "{db:?}");
    // Alice reads through her group; the group itself is listed too.
    assert!(
        db.iter()
            .any(|(p, _)| p == &format!("arn:aws:iam::{ACCT}:user/alice")),
        "{db:?}"
    );
    let dev = readers(&secret_arn("dev/tool-Cd1234"));
    assert!(!dev.iter().any(|(p, _)| p == &app), "{dev:?}");
    assert!(
        !dev.iter().any(|(p, _)| p == &role("ops")),
        "prod/* does not reach dev: {dev:?}"
    );
    // The resource policy of prod/shared names the other account.
    let shared = readers(&secret_arn("prod/shared-Bb2222"));
    assert!(
        shared
            .iter()
            .any(|(p, _)| p == "arn:aws:iam::999988887777:root"),
        "{shared:?}"
    );
    // ci can read all four but the log shows one read: a review result, not a failure.
    let reviews = r.reviews();
    assert!(
        reviews.contains(&("PRV-008".to_string(), role("ci"))),
        "{reviews:?}"
    );
    assert!(
        !reviews.contains(&("PRV-008".to_string(), app.clone())),
        "app-reader reads what it may: {reviews:?}"
    );
    let ci = r.result("PRV-008", &role("ci"));
    assert_eq!(ci["status"], "review");
    assert_eq!(ci["evidence"]["read_in_logs"], 1);
    assert_eq!(ci["failing"], false);
    let (_, md) = audit_as(
        {
            let mut a = args(
                &[dir.path().join("sm.json").to_string_lossy().into()],
                &[],
                &[],
                None,
            );
            a.policy_doc = vec![dir.path().join("auth.json").to_string_lossy().into()];
            a
        },
        "markdown",
    );
    assert!(md.contains("## Effective access"), "{md}");
    assert!(
        md.contains(&format!(
            "| `{}` | `{}` |",
            secret_arn("prod/api/key-Bc1234"),
            role("ci")
        )),
        "{md}"
    );
}

fn rbac_list() -> Value {
    let role_obj = |kind: &str, ns: Option<&str>, name: &str, rules: Value| {
        let mut meta = json!({"name": name});
        if let Some(n) = ns {
            meta["namespace"] = json!(n);
        }
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta, "rules": rules})
    };
    let binding = |kind: &str,
                   ns: Option<&str>,
                   name: &str,
                   role_kind: &str,
                   role: &str,
                   subjects: Value| {
        let mut meta = json!({"name": name});
        if let Some(n) = ns {
            meta["namespace"] = json!(n);
        }
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta,
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
               "subjects": subjects})
    };
    let read_secrets =
        json!([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]}]);
    let mut masters = binding(
        "ClusterRoleBinding",
        None,
        "cluster-admin",
        "ClusterRole",
        "cluster-admin",
        json!([{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:masters"}]),
    );
    masters["metadata"]["labels"] = json!({"kubernetes.io/bootstrapping": "rbac-defaults"});
    json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": [
        role_obj("ClusterRole", None, "secret-reader", read_secrets.clone()),
        role_obj("ClusterRole", None, "everything", json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}])),
        role_obj("Role", Some("shop"), "secret-get", json!([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}])),
        role_obj("Role", Some("shop"), "one-secret", json!([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["api-key"]}])),
        binding("ClusterRoleBinding", None, "app-reads-all", "ClusterRole", "secret-reader",
                json!([{"kind": "ServiceAccount", "name": "app", "namespace": "tools"}])),
        binding("ClusterRoleBinding", None, "anon-reads", "ClusterRole", "secret-reader",
                json!([{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:unauthenticated"}])),
        binding("ClusterRoleBinding", None, "bob-admin", "ClusterRole", "everything",
                json!([{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "bob"}])),
        binding("ClusterRoleBinding", None, "viewers", "ClusterRole", "view",
                json!([{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:authenticated"}])),
        binding("RoleBinding", Some("shop"), "default-gets", "Role", "secret-get",
                json!([{"kind": "ServiceAccount", "name": "default", "namespace": "shop"}])),
        binding("RoleBinding", Some("shop"), "web-one", "Role", "one-secret",
                json!([{"kind": "ServiceAccount", "name": "web", "namespace": "shop"}])),
        masters,
    ]})
}

#[test]
fn kubernetes_rbac_cluster_wide_default_and_anonymous() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = pretty(&rbac_list());
    let f = write(dir.path(), "rbac.json", &data);
    let inv = write(
        dir.path(),
        "k8s-secrets.json",
        &pretty(&json!({"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": {"name": "api-key", "namespace": "shop", "creationTimestamp": "2026-10-01T00:00:00Z"}},
            {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": {"name": "db", "namespace": "shop", "creationTimestamp": "2026-10-01T00:00:00Z"}},
        ]})),
    );
    let r = run(&[f], &[inv], &[]);
    assert_eq!(
        r.fails(),
        expect(&[
            ("PRV-001", "k8s:serviceaccount:tools/app"),
            ("PRV-001", "k8s:group:system:unauthenticated"),
            ("PRV-003", "k8s:group:system:unauthenticated"),
            ("PRV-001", "k8s:user:bob"),
            ("PRV-006", "k8s:user:bob"),
            ("PRV-007", "k8s:serviceaccount:shop/default"),
        ]),
        "{:#}",
        r.json["results"]
    );
    let d = r.result("PRV-007", "k8s:serviceaccount:shop/default");
    // The subject's own line in the binding.
    assert_eq!(
        d["location"]["line"],
        line_of(&data, "\"name\": \"default\"") - 2
    );
    assert!(
        d["controls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().contains("5.1.5"))
    );
    let rows = r.json["access"]["secrets"].as_array().unwrap();
    let who = |name: &str| -> Vec<String> {
        rows.iter()
            .find(|s| s["secret_id"] == format!("k8s:shop/{name}"))
            .map(|s| {
                s["readers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x["principal"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(who("api-key").contains(&"k8s:serviceaccount:shop/web".to_string()));
    assert!(
        !who("db").contains(&"k8s:serviceaccount:shop/web".to_string()),
        "resourceNames limit it"
    );
    assert!(who("db").contains(&"k8s:serviceaccount:shop/default".to_string()));
    assert!(who("db").contains(&"k8s:user:bob".to_string()));
}

#[test]
fn vault_policies_hcl_json_and_root_attachment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hcl = "# payments service\npath \"secret/data/prod/payments/*\" {\n  capabilities = [\"read\"]\n}\n\npath \"secret/data/+/db\" {\n  capabilities = [\"read\", \"list\"]\n}\n\npath \"sys/policies/*\" {\n  capabilities = [\"read\", \"sudo\"]\n}\n\npath \"sys/*\" {\n  capabilities = [\"read\"]\n}\n";
    let app = write(dir.path(), "payments.hcl", hcl.as_bytes());
    // `vault policy read -format=json` prints only the text; the name is added with jq.
    let wide = write(
        dir.path(),
        "policies.json",
        &pretty(
            &json!({"name": "reader-all", "policy": "path \"secret/*\" {\n  capabilities = [\"read\", \"list\"]\n}\n"}),
        ),
    );
    let json_syntax = write(
        dir.path(),
        "prod-ops.json",
        &pretty(
            &json!({"data": {"name": "prod-ops", "rules": "path \"secret/data/prod/*\" { capabilities = [\"read\"] }"}}),
        ),
    );
    let role = write(
        dir.path(),
        "approle.json",
        &pretty(
            &json!({"name": "ci", "data": {"token_policies": ["default", "root"], "token_ttl": 0}}),
        ),
    );
    let inv = write(
        dir.path(),
        "kv.jsonl",
        format!(
            "{}\n{}\n",
            json!({"path": "secret/prod/payments/stripe", "metadata": {"data": {"created_time": "2026-10-01T00:00:00Z", "current_version": 1, "versions": {"1": {"created_time": "2026-10-01T00:00:00Z", "deletion_time": "", "destroyed": false}}}}}),
            json!({"path": "secret/dev/db", "metadata": {"data": {"created_time": "2026-10-01T00:00:00Z", "current_version": 1, "versions": {"1": {"created_time": "2026-10-01T00:00:00Z", "deletion_time": "", "destroyed": false}}}}})
        )
        .as_bytes(),
    );
    let r = run(&[app, wide, json_syntax, role], &[inv], &[]);
    assert_eq!(
        r.fails(),
        expect(&[
            ("PRV-002", "vault-policy:payments"),
            ("PRV-006", "vault-policy:payments"),
            ("PRV-001", "vault-policy:reader-all"),
            ("PRV-002", "vault-policy:prod-ops"),
            ("PRV-006", "vault:ci"),
        ]),
        "{:#}",
        r.json["results"]
    );
    assert_eq!(
        r.result("PRV-002", "vault-policy:payments")["location"]["line"],
        6
    );
    assert_eq!(
        r.result("PRV-006", "vault-policy:payments")["location"]["line"],
        10
    );
    let rows = r.json["access"]["secrets"].as_array().unwrap();
    let stripe: Vec<&str> = rows
        .iter()
        .find(|s| s["secret_id"] == "vault:secret/prod/payments/stripe")
        .unwrap()["readers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["principal"].as_str().unwrap())
        .collect();
    assert!(
        stripe.contains(&"vault-policy:payments")
            && stripe.contains(&"vault-policy:prod-ops")
            && stripe.contains(&"vault-policy:reader-all"),
        "{stripe:?}"
    );
    // `+/db` reaches dev/db; `prod/*` does not.
    let db: Vec<&str> = rows
        .iter()
        .find(|s| s["secret_id"] == "vault:secret/dev/db")
        .unwrap()["readers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["principal"].as_str().unwrap())
        .collect();
    assert!(
        db.contains(&"vault-policy:payments") && !db.contains(&"vault-policy:prod-ops"),
        "{db:?}"
    );
}

#[test]
fn gcp_project_and_secret_policies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let project = json!({"version": 1, "etag": "BwXfake=", "bindings": [
        {"role": "roles/secretmanager.secretAccessor", "members": ["serviceAccount:app@fake-proj.iam.gserviceaccount.com"]},
        {"role": "roles/editor", "members": ["serviceAccount:111111111111-compute@developer.gserviceaccount.com"]},
        {"role": "roles/viewer", "members": ["user:carol@example.com"]},
        {"role": "roles/secretmanager.secretAccessor", "members": ["serviceAccount:billing@fake-proj.iam.gserviceaccount.com"],
         "condition": {"title": "billing secrets only", "expression": "resource.name.startsWith(\"projects/fake-proj/secrets/billing-\")"}},
    ]});
    let pf = write(dir.path(), "project-iam.json", &pretty(&project));
    let secret_policy = json!({"resource": "projects/fake-proj/secrets/api-key", "policy": {"bindings": [
        {"role": "roles/secretmanager.secretAccessor", "members": ["allUsers", "user:dave@example.com"]}
    ]}});
    let sf = write(dir.path(), "secret-iam.json", &pretty(&secret_policy));
    let r = run(&[pf, sf], &[], &[]);
    assert_eq!(
        r.fails(),
        expect(&[
            (
                "PRV-001",
                "serviceAccount:app@fake-proj.iam.gserviceaccount.com"
            ),
            (
                "PRV-001",
                "serviceAccount:111111111111-compute@developer.gserviceaccount.com"
            ),
            (
                "PRV-007",
                "serviceAccount:111111111111-compute@developer.gserviceaccount.com"
            ),
            ("PRV-003", "projects/fake-proj/secrets/api-key"),
        ]),
        "{:#}",
        r.json["results"]
    );
    assert_eq!(input(&r, "project-iam.json")["format"], "gcp-iam");
}

#[test]
fn azure_access_policies_and_role_assignments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vault = json!({"id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/fake-kv",
    "name": "fake-kv", "properties": {"enableRbacAuthorization": false, "vaultUri": "https://fake-kv.vault.azure.net/",
    "accessPolicies": [
        {"tenantId": "t", "objectId": "11111111-aaaa-0000-0000-000000000001", "permissions": {"secrets": ["Get", "List", "Set", "Delete", "Backup", "Restore", "Recover", "Purge"]}},
        {"tenantId": "t", "objectId": "11111111-aaaa-0000-0000-000000000002", "permissions": {"secrets": ["get"]}}
    ]}});
    let vf = write(dir.path(), "kv-show.json", &pretty(&vault));
    let sub = "/subscriptions/00000000-0000-0000-0000-000000000000";
    let ra = json!([
        {"principalId": "22222222-bbbb-0000-0000-000000000001", "principalType": "ServicePrincipal", "roleDefinitionName": "Key Vault Secrets User", "scope": sub},
        {"principalId": "22222222-bbbb-0000-0000-000000000002", "principalType": "User", "roleDefinitionName": "Key Vault Administrator", "scope": sub},
        {"principalId": "22222222-bbbb-0000-0000-000000000003", "principalType": "ServicePrincipal", "roleDefinitionName": "Key Vault Secrets User",
         "scope": format!("{sub}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/fake-kv")},
        {"principalId": "22222222-bbbb-0000-0000-000000000004", "principalType": "User", "roleDefinitionName": "Reader", "scope": sub}
    ]);
    let rf = write(dir.path(), "role-assignments.json", &pretty(&ra));
    let inv = write(
        dir.path(),
        "az.json",
        &pretty(
            &json!([{"id": "https://fake-kv.vault.azure.net/secrets/db-pass", "name": "db-pass",
                          "attributes": {"created": "2026-10-01T00:00:00+00:00", "enabled": true, "expires": "2026-12-01T00:00:00+00:00"}}]),
        ),
    );
    let r = run(&[vf, rf], &[inv], &[]);
    assert_eq!(
        r.fails(),
        expect(&[
            ("PRV-001", "11111111-aaaa-0000-0000-000000000001"),
            ("PRV-001", "22222222-bbbb-0000-0000-000000000001"),
            ("PRV-001", "22222222-bbbb-0000-0000-000000000002"),
            ("PRV-006", "22222222-bbbb-0000-0000-000000000002"),
        ]),
        "{:#}",
        r.json["results"]
    );
    let readers: Vec<&str> = r.json["access"]["secrets"][0]["readers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["principal"].as_str().unwrap())
        .collect();
    assert_eq!(readers.len(), 5, "{readers:?}");
}

#[test]
fn malformed_policy_docs_make_the_audit_partial() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Invalid JSON on line 4.
    let broken = write(
        dir.path(),
        "broken.json",
        b"{\n \"UserDetailList\": [\n  {\"Arn\": \"x\"},\n  {oops}\n ]\n}\n",
    );
    let r = run(&[broken], &[], &[]);
    assert_eq!(r.code, 2, "a policy that was not read may grant anything");
    assert_eq!(input(&r, "broken.json")["status"], "partial");
    assert_eq!(r.json["summary"]["partial"], true);
    assert!(
        r.errors().contains(&("broken.json".to_string(), 4)),
        "{:?}",
        r.errors()
    );
    // A statement that cannot be understood: named with its line, and partial.
    let auth = json!({"RoleDetailList": [{"RoleName": "x", "Arn": role("x"), "RolePolicyList": [
        {"PolicyName": "p", "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": 5, "Resource": "*"}]}}
    ]}]});
    let data = pretty(&auth);
    let bad_stmt = write(dir.path(), "bad-stmt.json", &data);
    let mut a = args(&[], &[], &[], None);
    a.policy_doc = vec![bad_stmt];
    a.allow_partial = true;
    let r = audit_with(a);
    assert_eq!(r.code, 0, "--allow-partial exits by --fail-on");
    assert!(
        r.errors().contains(&(
            "bad-stmt.json".to_string(),
            line_of(&data, "\"Action\": 5") - 1
        )),
        "{:?} {:#}",
        r.errors(),
        r.json["input_errors"]
    );
    assert_eq!(input(&r, "bad-stmt.json")["status"], "partial");
    // Broken HCL names its line.
    let hcl = write(
        dir.path(),
        "bad.hcl",
        b"path \"secret/*\" {\n  capabilities = [\"read\"\n}\n",
    );
    let r = run(&[hcl], &[], &[]);
    assert_eq!(r.code, 2);
    assert_eq!(r.errors().first().map(|e| e.0.as_str()), Some("bad.hcl"));
    // Not a policy at all: a clear error, no report.
    let other = write(dir.path(), "other.csv", b"a,b\n1,2\n");
    let r = run(&[other], &[], &[]);
    assert_eq!(r.code, 2);
    assert!(r.json.is_null());
}

#[test]
fn gzip_and_utf16_policy_docs_and_misplaced_inputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = pretty(&rbac_list());
    let gz = write(dir.path(), "rbac.json.gz", &gzip(&data));
    let mut utf16 = vec![0xff, 0xfe];
    for u in String::from_utf8(resource_policies())
        .unwrap()
        .encode_utf16()
    {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    let u = write(dir.path(), "rp-utf16.json", &utf16);
    let r = run(&[gz, u], &[], &[]);
    assert!(r.fails().contains(&(
        "PRV-007".to_string(),
        "k8s:serviceaccount:shop/default".to_string()
    )));
    assert!(
        r.fails()
            .contains(&("PRV-003".to_string(), secret_arn("prod/public-Aa1111")))
    );
    assert_eq!(
        r.result("PRV-003", &secret_arn("prod/public-Aa1111"))["location"]["line"],
        line_of(&resource_policies(), "ResourcePolicy"),
        "UTF-16 keeps the file's own lines"
    );
    // An access policy given as an inventory is pointed to --policy-doc.
    let auth = write(dir.path(), "auth.json", &pretty(&authorization_details()));
    let dir2 = tempfile::tempdir().expect("tempdir");
    let mut a = args(&[auth], &[], &[], None);
    a.output = Some(dir2.path().join("r.json").to_string_lossy().into_owned());
    let err = keywarden::audit::run(&a).expect("run");
    assert_eq!(err, 2);
    assert!(
        !dir2.path().join("r.json").exists(),
        "no report for bad input"
    );
    // An audit log given as a policy export is pointed to --log, not read as a policy.
    let r = run(&[fx("aws/cloudtrail.json")], &[], &[]);
    assert_eq!(r.code, 2);
    assert!(r.json.is_null());
}
