//! The secrets manager itself (MGR): Key Vault recoverability and network exposure from
//! `az keyvault show`, Vault audit devices from `vault audit list -format=json`, and per
//! secret the customer-managed key and the tags a class may require.

use std::collections::BTreeSet;

use crate::common_audit;
use common_audit::*;

use serde_json::json;

fn family(r: &Report) -> BTreeSet<(String, String)> {
    r.fails()
        .into_iter()
        .filter(|(c, _)| c.starts_with("MGR"))
        .collect()
}

fn kv(name: &str, rg: &str) -> String {
    format!(
        "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{name}"
    )
}

fn line_in(path: &str, needle: &str) -> u64 {
    std::fs::read_to_string(path)
        .expect("fixture")
        .lines()
        .position(|l| l.contains(needle))
        .map(|i| i as u64 + 1)
        .expect("needle in fixture")
}

#[test]
fn key_vault_recoverability_and_network_exposure() {
    let show = fx("azure/keyvault-show.json");
    let r = audit(std::slice::from_ref(&show), &[], &[]);
    assert!(r.errors().is_empty(), "{}", r.json["input_errors"]);
    let legacy = kv("kv-legacy-payments", "rg-payments");
    let staging = kv("kv-staging-apps", "rg-staging");
    // kv-prod-core keeps deleted secrets, protects them from purging and denies by
    // default: nothing. kv-staging-apps lacks purge protection only (public access off).
    assert_eq!(
        family(&r),
        expect(&[
            ("MGR-001", &legacy),
            ("MGR-002", &legacy),
            ("MGR-003", &legacy),
            ("MGR-002", &staging),
        ])
    );
    assert_eq!(r.json["summary"]["secrets"], 0, "a vault is not a secret");
    assert_eq!(input(&r, "keyvault-show.json")["format"], "azure-keyvault");
    let soft = r.result("MGR-001", &legacy);
    assert_eq!(soft["severity"], "high");
    assert_eq!(soft["kind"], "azure_key_vault");
    assert_eq!(soft["name"], "kv-legacy-payments");
    assert_eq!(soft["location"]["line"], 1);
    assert!(
        soft["controls"].as_array().is_some_and(|c| c
            .iter()
            .any(|x| x.as_str().unwrap_or("").contains("CIS Azure 8.5"))),
        "{soft}"
    );
    assert_eq!(
        r.result("MGR-002", &staging)["location"]["line"],
        line_in(&show, "\"name\": \"kv-staging-apps\"") - 3,
        "each vault at the line its document starts"
    );
    let public = r.result("MGR-003", &legacy);
    let msg = public["message"].as_str().unwrap_or("");
    assert!(
        msg.contains("publicNetworkAccess Enabled") && msg.contains("no network rules"),
        "{msg}"
    );

    // Given as an access policy the same file is read for its access policies only.
    let mut a = args(&[], &[], &[], None);
    a.policy_doc = vec![show.clone()];
    let r = audit_with(a);
    assert_eq!(r.code, 0, "{}", r.json);
    assert!(family(&r).is_empty());
    // Both at once, and the vault twice: one result per (check, vault).
    let mut a = args(&[show.clone(), show.clone()], &[], &[], None);
    a.policy_doc = vec![show];
    let r = audit_with(a);
    assert_eq!(family(&r).len(), 4);
    assert_eq!(r.json["results"].as_array().map(Vec::len), Some(4));

    // A trimmed export is judged on what it says: the access-policy fixture names neither
    // soft delete, purge protection nor network access.
    let r = audit(&[fx("access/azure-keyvault.json")], &[], &[]);
    assert_eq!(input(&r, "azure-keyvault.json")["format"], "azure-keyvault");
    assert!(family(&r).is_empty(), "{:?}", family(&r));

    // `az keyvault list` leaves the properties out: each vault is an input error naming its
    // line, and nothing is judged clean by default.
    let dir = tempfile::tempdir().expect("tempdir");
    let list = json!([{"id": kv("kv-a", "rg"), "location": "westeurope", "name": "kv-a", "resourceGroup": "rg",
        "tags": {}, "type": "Microsoft.KeyVault/vaults"}]);
    let f = write(
        dir.path(),
        "kv-list.json",
        serde_json::to_string_pretty(&list).unwrap().as_bytes(),
    );
    let r = audit(&[f], &[], &[]);
    assert_eq!(r.errors(), vec![("kv-list.json".to_string(), 2)]);
    let err = r.json["input_errors"][0]["error"].as_str().unwrap_or("");
    assert!(err.contains("az keyvault show"), "{err}");
}

#[test]
fn vault_audit_devices() {
    let r = audit(&[fx("vault/audit-list-none.json")], &[], &[]);
    assert_eq!(family(&r), expect(&[("MGR-005", "vault:sys/audit")]));
    let none = r.result("MGR-005", "vault:sys/audit");
    assert_eq!(none["severity"], "high");
    assert_eq!(none["kind"], "vault_server");
    assert_eq!(
        input(&r, "audit-list-none.json")["format"],
        "vault-audit-devices"
    );
    assert_eq!(r.code, 1);
    // A file device and a socket: audited.
    let r = audit(&[fx("vault/audit-list.json")], &[], &[]);
    assert!(r.errors().is_empty(), "{}", r.json["input_errors"]);
    assert!(family(&r).is_empty(), "{:?}", family(&r));
    assert_eq!(
        input(&r, "audit-list.json")["format"],
        "vault-audit-devices"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // Every device writes to `discard`: nothing is kept.
    let discard = json!({"file/": {"type": "file", "description": "", "options": {"file_path": "discard"},
        "local": false, "path": "file/"}});
    let f = write(d, "discard.json", discard.to_string().as_bytes());
    let r = audit(&[f], &[], &[]);
    assert_eq!(family(&r), expect(&[("MGR-005", "vault:sys/audit")]));
    assert!(
        r.result("MGR-005", "vault:sys/audit")["message"]
            .as_str()
            .unwrap_or("")
            .contains("discard")
    );
    // `vault read -format=json sys/audit`: the devices under `data`.
    let read = json!({"request_id": "3c2b1a09-0000-4000-8000-000000000001", "lease_id": "", "lease_duration": 0,
        "renewable": false, "data": {"file/": {"type": "file", "description": "", "options": {"file_path": "stdout"},
        "local": false, "path": "file/"}}, "warnings": null});
    let f = write(
        d,
        "read.json",
        serde_json::to_string_pretty(&read).unwrap().as_bytes(),
    );
    let r = audit(&[f], &[], &[]);
    assert!(family(&r).is_empty(), "{:?}", family(&r));
    // With no devices only the format name tells what it is.
    let empty = json!({"request_id": "3c2b1a09-0000-4000-8000-000000000002", "lease_id": "", "lease_duration": 0,
        "renewable": false, "data": {}, "warnings": null});
    let f = write(d, "read-none.json", empty.to_string().as_bytes());
    let r = audit(&[format!("vault-audit-devices:{f}")], &[], &[]);
    assert_eq!(family(&r), expect(&[("MGR-005", "vault:sys/audit")]));
    // A device that is not an object: an input error with its line, nothing judged.
    let f = write(d, "bad.json", b"{\n  \"file/\": \"file\",\n  \"local\": false, \"options\": {}, \"type\": \"x\", \"path\": \"y\"\n}\n");
    let r = audit(&[f], &[], &[]);
    assert_eq!(r.errors(), vec![("bad.json".to_string(), 1)]);
    assert!(family(&r).is_empty());
    // A truncated export makes the audit partial: no device list is not "no devices".
    let f = write(
        d,
        "cut.json",
        b"{\n  \"file/\": {\"type\": \"file\", \"options\": {\"file_",
    );
    let r = audit(&[format!("vault-audit-devices:{f}")], &[], &[]);
    assert_eq!(r.code, 2);
    assert_eq!(r.json["summary"]["partial"], true);
    assert!(family(&r).is_empty());
}

#[test]
fn customer_managed_keys_and_required_tags_where_the_class_asks() {
    let arn = |n: &str| format!("arn:aws:secretsmanager:eu-west-1:123456789012:secret:{n}");
    let inv = [
        fx("aws/list-secrets-kms.json"),
        fx("aws/get-secret-value.json"),
    ];
    // The built-in policy asks for neither.
    let r = audit(&inv, &[], &[]);
    assert!(family(&r).is_empty(), "{:?}", family(&r));

    let dir = tempfile::tempdir().expect("tempdir");
    let p = policy_file(
        &dir,
        "[defaults]\nrequire_customer_key = true\nrequired_tags = [\"owner\"]\n",
    );
    let r = audit_with(args(&inv, &[], &[], Some(p)));
    // api-key: customer key and an owner. webhook: neither. legacy: the AWS-managed key by
    // alias, an `Owner` tag. unowned: an empty owner. retired: deleted. The get-secret-value
    // output says nothing about keys or tags.
    assert_eq!(
        family(&r),
        expect(&[
            ("MGR-004", &arn("prod/orders/webhook-Bc23De")),
            ("MGR-004", &arn("prod/orders/legacy-Cd34Ef")),
            ("MGR-006", &arn("prod/orders/webhook-Bc23De")),
            ("MGR-006", &arn("prod/orders/unowned-De45Fg")),
        ])
    );
    let tag = r.result("MGR-006", &arn("prod/orders/webhook-Bc23De"));
    assert_eq!(tag["evidence"]["missing_tags"], json!(["owner"]));
    assert_eq!(tag["severity"], "low");
    let cmk = r.result("MGR-004", &arn("prod/orders/legacy-Cd34Ef"));
    assert!(
        cmk["message"]
            .as_str()
            .unwrap_or("")
            .contains("aws/secretsmanager"),
        "{cmk}"
    );

    // Per class: only db_password asks; other stores' tags count (GCP labels, Vault
    // custom_metadata, the generic owner column); GCP names its customer key in replication.
    let p = policy_file(
        &dir,
        "[classes.db_password]\nrequire_customer_key = true\nrequired_tags = [\"owner\", \"team\"]\n",
    );
    let gcp = json!([
        {"name": "projects/shop/secrets/orders-db-password", "createTime": "2026-10-01T00:00:00Z",
         "replication": {"automatic": {}}, "labels": {"owner": "orders", "team": "payments"}},
        {"name": "projects/shop/secrets/billing-db-password", "createTime": "2026-10-01T00:00:00Z",
         "replication": {"userManaged": {"replicas": [{"location": "europe-west1",
            "customerManagedEncryption": {"kmsKeyName": "projects/shop/locations/europe-west1/keyRings/r/cryptoKeys/k"}}]}},
         "labels": {"owner": "billing"}},
        {"name": "projects/shop/secrets/orders-api-key", "createTime": "2026-10-01T00:00:00Z",
         "replication": {"automatic": {}}}
    ]);
    let g = write(
        dir.path(),
        "gcp.json",
        serde_json::to_string_pretty(&gcp).unwrap().as_bytes(),
    );
    let csv = write(
        dir.path(),
        "inv.csv",
        b"id,name,class,owner,created\nlegacy-db-password,legacy,db_password,dba-team,2026-10-01\n",
    );
    let r = audit_with(args(&[g, csv], &[], &[], Some(p)));
    assert_eq!(
        family(&r),
        expect(&[
            ("MGR-004", "projects/shop/secrets/orders-db-password"),
            ("MGR-006", "projects/shop/secrets/billing-db-password"),
            ("MGR-006", "legacy-db-password"),
        ])
    );
    assert_eq!(
        r.result("MGR-006", "legacy-db-password")["evidence"]["missing_tags"],
        json!(["team"])
    );
}
