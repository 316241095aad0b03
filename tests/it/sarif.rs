//! SARIF output against the official 2.1.0 schema and GitHub code scanning's requirements.

use crate::common;
use common::*;
use std::fs;

fn schema_errors(doc: &serde_json::Value) -> Vec<String> {
    crate::common::schema_errors("tests/data/sarif-schema-2.1.0.json", doc)
}

#[test]
fn scan_sarif_is_valid_and_fit_for_github() {
    let mut rng = Rng::new(11);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let k = fake_aws_key_id(&mut rng);
    fs::create_dir_all(d.join("conf dir")).unwrap();
    fs::write(
        d.join("conf dir/app.env"),
        format!("AWS_ACCESS_KEY_ID={k}\nDB_PASSWORD=Vb7qLx29mTzKp4\n"),
    )
    .unwrap();
    fs::write(d.join("b.py"), format!("x = '{k}'\n")).unwrap();
    let out = run(&["scan", ".", "--format", "sarif"], d);
    assert_eq!(out.status.code(), Some(1));
    let doc = json(&out);
    let errs = schema_errors(&doc);
    assert!(errs.is_empty(), "schema errors: {errs:#?}");

    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let mut ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "unique rule ids");
    assert_eq!(n, 2, "one descriptor per rule that fired");
    for r in rules {
        assert!(r["shortDescription"]["text"].is_string());
        assert!(r["fullDescription"]["text"].is_string());
        assert!(r["help"]["text"].is_string() && r["help"]["markdown"].is_string());
        let tags: Vec<&str> = r["properties"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert!(tags.contains(&"security") && tags.contains(&"secret"));
        let sev: f64 = r["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&sev));
        assert!(r["properties"]["precision"].is_string());
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for res in results {
        let rid = res["ruleId"].as_str().unwrap();
        let idx = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], rid);
        assert!(res["message"]["text"].as_str().unwrap().len() > 10);
        let loc = &res["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            !uri.starts_with('/') && !uri.contains(' '),
            "relative, encoded uri: {uri}"
        );
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(res["partialFingerprints"]["primaryLocationLineHash"].is_string());
        assert!(
            !res.to_string().contains("Vb7qLx29mTzKp4"),
            "secret never in SARIF"
        );
    }
    // Same value in two files: the fingerprint property agrees, the line hash differs by path.
    let aws: Vec<&serde_json::Value> = results
        .iter()
        .filter(|r| r["ruleId"] == "aws-access-key-id")
        .collect();
    assert_eq!(
        aws[0]["properties"]["fingerprint"],
        aws[1]["properties"]["fingerprint"]
    );
    assert_ne!(aws[0]["partialFingerprints"], aws[1]["partialFingerprints"]);
}

#[test]
fn empty_scan_sarif_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.txt"), "nothing").unwrap();
    let out = run(&["scan", ".", "--format", "sarif"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let doc = json(&out);
    assert!(schema_errors(&doc).is_empty());
    assert_eq!(doc["runs"][0]["results"].as_array().unwrap().len(), 0);
}
