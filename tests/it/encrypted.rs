//! Secrets encrypted at rest (SOPS, Sealed Secrets, Ansible Vault, git-crypt, Rails encrypted
//! credentials) produce no findings and are counted in the summary; plaintext next to them is
//! still found. The ciphertexts below are random, and some are built to hold a token shape
//! (an AWS key id), so that a finding would show if ciphertext were scanned.

use crate::common::*;

const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const HEX: &str = "0123456789abcdef";

/// A SOPS value whose data holds `inside`.
fn sops_value(rng: &mut Rng, inside: &str) -> String {
    format!(
        "ENC[AES256_GCM,data:{inside},iv:{}=,tag:{}==,type:str]",
        rng.s(B64, 43),
        rng.s(B64, 22)
    )
}

fn scan_summary(dir: &std::path::Path) -> (Vec<serde_json::Value>, serde_json::Value) {
    let out = run(&["scan", ".", "-f", "json", "--no-config"], dir);
    let v = json(&out);
    (
        v["findings"].as_array().unwrap().clone(),
        v["summary"].clone(),
    )
}

/// The rule ids and first lines of findings, for failure messages.
fn shown(findings: &[serde_json::Value]) -> Vec<String> {
    findings
        .iter()
        .map(|f| format!("{} {}:{}", f["rule_id"], f["path"], f["line"]))
        .collect()
}

#[test]
fn sops_files_in_each_format_are_silent_and_counted() {
    let mut rng = Rng::new(201);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Ciphertext holding a key-id shape: reported if the value were scanned.
    let trap = fake_aws_key_id(&mut rng);
    let v = sops_value(&mut rng, &trap);
    let body = rng.s(B64, 44);
    let mac = sops_value(&mut rng, &body);
    let age = rng.s(B64, 64);
    write_file(
        d,
        "secrets.enc.yaml",
        format!(
            "db:\n    password: {v}\nsops:\n    age:\n        - recipient: age1{}\n          enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n            {age}\n            -----END AGE ENCRYPTED FILE-----\n    mac: {mac}\n    version: 3.9.0\n",
            rng.s("qpzry9x8gf2tvdw0s3jn54khce6mua7l", 58)
        ),
    );
    write_file(
        d,
        "secrets.enc.json",
        format!(
            "{{\n  \"password\": \"{v}\",\n  \"sops\": {{\n    \"mac\": \"{mac}\",\n    \"version\": \"3.9.0\"\n  }}\n}}\n"
        ),
    );
    write_file(
        d,
        "secrets.enc.env",
        format!("DB_PASSWORD={v}\nsops_mac={mac}\nsops_version=3.9.0\n"),
    );
    write_file(
        d,
        "secrets.enc.ini",
        format!("[db]\npassword = {v}\n[sops]\nmac = {mac}\nversion = 3.9.0\n"),
    );
    let (findings, summary) = scan_summary(d);
    assert!(findings.is_empty(), "{:?}", shown(&findings));
    assert_eq!(summary["encrypted_files"], 4);
    assert_eq!(summary["files_scanned"], 4);

    // Without SOPS's metadata the same value is not known to be ciphertext.
    write_file(d, "secrets.enc.env", format!("DB_PASSWORD={v}\n"));
    let (findings, summary) = scan_summary(d);
    assert_eq!(findings.len(), 1, "{:?}", shown(&findings));
    assert_eq!(summary["encrypted_files"], 3);
}

#[test]
fn plaintext_next_to_sops_values_is_found() {
    let mut rng = Rng::new(202);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (body, mac_body) = (rng.s(B64, 32), rng.s(B64, 44));
    let v = sops_value(&mut rng, &body);
    let mac = sops_value(&mut rng, &mac_body);
    let plain = fake_aws_key_id(&mut rng);
    // `unencrypted_suffix` leaves `*_unencrypted` keys in clear.
    write_file(
        d,
        "app.yaml",
        format!(
            "token: {v}\naws_key_unencrypted: {plain}\nsops:\n    mac: {mac}\n    unencrypted_suffix: _unencrypted\n"
        ),
    );
    let (findings, summary) = scan_summary(d);
    assert_eq!(findings.len(), 1, "{:?}", shown(&findings));
    assert_eq!(findings[0]["line"], 2);
    assert_eq!(summary["encrypted_files"], 1);
}

#[test]
fn sealed_secrets_are_silent_and_their_template_is_scanned() {
    let mut rng = Rng::new(203);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A value a secret-named key would be reported with, were it not a Sealed Secret's.
    let sealed = format!("AgB{}", rng.s(B64, 200));
    let plain = fake_aws_key_id(&mut rng);
    let doc = |kind: &str, extra: &str| {
        format!(
            "apiVersion: bitnami.com/v1alpha1\nkind: {kind}\nmetadata:\n  name: db\nspec:\n  encryptedData:\n    api_token: {sealed}\n  template:\n    metadata:\n      name: db\n{extra}"
        )
    };
    write_file(d, "sealed.yaml", doc("SealedSecret", ""));
    let (findings, summary) = scan_summary(d);
    assert!(findings.is_empty(), "{:?}", shown(&findings));
    assert_eq!(summary["encrypted_files"], 1);
    // The same block under another kind is not ciphertext to us.
    write_file(d, "sealed.yaml", doc("Secretish", ""));
    let (findings, summary) = scan_summary(d);
    assert_eq!(findings.len(), 1, "{:?}", shown(&findings));
    assert_eq!(summary["encrypted_files"], 0);
    // Plaintext in the template is found.
    let extra = format!("    data:\n      aws_access_key_id: {plain}\n");
    write_file(d, "sealed.yaml", doc("SealedSecret", &extra));
    let (findings, _) = scan_summary(d);
    assert_eq!(findings.len(), 1, "{:?}", shown(&findings));
    assert_eq!(findings[0]["line"], 12);
    // Past the head of a multi-document file: searched for once a match is seen.
    let padding: String = (0..300)
        .map(|i| format!("  key_{i}: value number {i}\n"))
        .collect();
    let late = format!(
        "apiVersion: v1\nkind: ConfigMap\ndata:\n{padding}---\n{}",
        doc("SealedSecret", "")
    );
    assert!(late.find("SealedSecret").unwrap() > 8192);
    write_file(d, "sealed.yaml", late);
    let (findings, summary) = scan_summary(d);
    assert!(findings.is_empty(), "{:?}", shown(&findings));
    assert_eq!(summary["encrypted_files"], 1);
    // JSON form.
    write_file(
        d,
        "sealed.yaml",
        format!(
            "{{\"kind\": \"SealedSecret\", \"spec\": {{\"encryptedData\": {{\"api_token\": \"{sealed}\"}}}}}}\n"
        ),
    );
    let (findings, summary) = scan_summary(d);
    assert!(findings.is_empty(), "{:?}", shown(&findings));
    assert_eq!(summary["encrypted_files"], 1);
}

#[test]
fn ansible_vault_files_and_inline_blocks_are_silent() {
    let mut rng = Rng::new(204);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let lines: Vec<String> = (0..6).map(|_| rng.s(HEX, 80)).collect();
    let plain = fake_aws_key_id(&mut rng);
    write_file(
        d,
        "group_vars/all/vault.yml",
        format!("$ANSIBLE_VAULT;1.1;AES256\n{}\n", lines.join("\n")),
    );
    write_file(
        d,
        "host_vars/web1.yml",
        format!(
            "ansible_user: deploy\nansible_become_pass: !vault |\n          $ANSIBLE_VAULT;1.2;AES256;prod\n          {}\naws_access_key_id: {plain}\n",
            lines.join("\n          ")
        ),
    );
    let (findings, summary) = scan_summary(d);
    assert_eq!(findings.len(), 1, "{:?}", shown(&findings));
    assert_eq!(findings[0]["path"], "host_vars/web1.yml");
    assert_eq!(findings[0]["line"], 10);
    assert_eq!(summary["encrypted_files"], 2);
    // The vault file is not scanned; the file with an inline block is.
    assert_eq!(summary["files_scanned"], 1);
}

#[test]
fn git_crypt_and_rails_credentials_are_counted_not_scanned() {
    let mut rng = Rng::new(205);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut crypt = b"\0GITCRYPT\0".to_vec();
    crypt.extend((0..200).map(|_| rng.next() as u8));
    write_file(d, "secrets/prod.env", &crypt);
    let rails = format!(
        "{}--{}--{}",
        rng.s(B64, 320),
        rng.s(B64, 16),
        rng.s(B64, 22)
    );
    write_file(d, "config/credentials.yml.enc", &rails);
    write_file(d, "config/credentials/production.yml.enc", &rails);
    let (findings, summary) = scan_summary(d);
    assert!(findings.is_empty(), "{:?}", shown(&findings));
    assert_eq!(summary["encrypted_files"], 3);
    assert_eq!(summary["skipped_binary"], 0);
    assert_eq!(summary["files_scanned"], 0);
    let text = run(&["scan", ".", "--no-config"], d);
    let err =
        String::from_utf8_lossy(&text.stdout).into_owned() + &String::from_utf8_lossy(&text.stderr);
    assert!(err.contains("encrypted at rest: 3 files"), "{err}");
}

#[test]
fn ejson_values_are_silent() {
    let mut rng = Rng::new(206);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A value a secret-named key would be reported with, were it not EJSON ciphertext.
    let value = format!(
        "EJ[1:{}=:{}:{}]",
        rng.s(B64, 43),
        rng.s(B64, 32),
        rng.s(B64, 60)
    );
    let plain = fake_aws_key_id(&mut rng);
    write_file(
        d,
        "config/secrets.ejson",
        format!(
            "{{\n  \"_public_key\": \"{}\",\n  \"secret_key_base\": \"{value}\",\n  \"aws_access_key_id\": \"{plain}\"\n}}\n",
            rng.s(HEX, 64)
        ),
    );
    let (findings, summary) = scan_summary(d);
    assert_eq!(findings.len(), 1, "{:?}", shown(&findings));
    assert_eq!(findings[0]["line"], 4);
    assert_eq!(summary["encrypted_files"], 1);
}
