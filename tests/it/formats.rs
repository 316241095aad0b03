//! The GitLab Secret Detection and JUnit reports (against GitLab's schema and the Jenkins
//! xUnit plugin's JUnit XSD, both in tests/data), shell completions and the man page.

use crate::common::*;
use crate::git_support::{Repo, aws_key};
use quick_xml::events::Event;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

fn gitlab_schema_errors(doc: &Value) -> Vec<String> {
    crate::common::schema_errors("tests/data/gitlab/secret-detection-report-format.json", doc)
}

fn assert_gitlab_valid(doc: &Value) {
    let errs = gitlab_schema_errors(doc);
    assert!(errs.is_empty(), "schema errors: {errs:#?}\n{doc:#}");
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// A tree with one AWS key id in `conf/app.env` and the same key in `b.py`.
fn tree(seed: u64) -> (tempfile::TempDir, String) {
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let k = fake_aws_key_id(&mut rng);
    fs::create_dir_all(dir.path().join("conf")).unwrap();
    fs::write(
        dir.path().join("conf/app.env"),
        format!("# settings\nAWS_ACCESS_KEY_ID={k}\n"),
    )
    .unwrap();
    fs::write(dir.path().join("b.py"), format!("x = '{k}'\n")).unwrap();
    (dir, k)
}

fn scan(d: &Path, format: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["scan", ".", "--no-config", "--format", format];
    args.extend_from_slice(extra);
    run(&args, d)
}

#[test]
fn gitlab_tree_scan_is_schema_valid_and_redacted() {
    let (dir, k) = tree(31);
    let out = scan(dir.path(), "gitlab", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(!text.contains(&k), "the secret is in the report");
    let doc = json(&out);
    assert_gitlab_valid(&doc);
    // The validator does reject what GitLab would: a time zone suffix, a missing commit.
    let mut bad = doc.clone();
    bad["scan"]["start_time"] = "2026-01-01T00:00:00Z".into();
    bad["vulnerabilities"][0]["location"]
        .as_object_mut()
        .unwrap()
        .remove("commit");
    assert_eq!(gitlab_schema_errors(&bad).len(), 2, "{bad:#}");

    assert_eq!(doc["version"], "15.0.7");
    assert_eq!(doc["scan"]["type"], "secret_detection");
    assert_eq!(doc["scan"]["status"], "success");
    assert_eq!(doc["scan"]["scanner"]["id"], "keywarden");
    let vulns = doc["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 2);
    let mut ids = Vec::new();
    for v in vulns {
        assert_eq!(v["category"], "secret_detection");
        assert_eq!(v["severity"], "High", "{v:#}");
        // Outside git history the tree's revision is unknown: the schema's required commit
        // carries the placeholder GitLab's own analyzer uses.
        assert_eq!(v["location"]["commit"]["sha"], "0000000");
        assert!(v["identifiers"][0]["value"].is_string());
        assert!(
            v["raw_source_code_extract"]
                .as_str()
                .unwrap()
                .contains("***")
        );
        let id = v["id"].as_str().unwrap();
        assert_eq!(id.len(), 36, "UUID-shaped: {id}");
        ids.push(id.to_string());
    }
    let file = |v: &Value| v["location"]["file"].as_str().unwrap().to_string();
    let mut files: Vec<String> = vulns.iter().map(file).collect();
    files.sort();
    assert_eq!(files, ["b.py", "conf/app.env"]);
    ids.dedup();
    assert_eq!(ids.len(), 2, "the same secret in two files has two ids");

    // The id is stable: another run, and the secret moved to another line, keep it.
    let by_file = |doc: &Value| -> BTreeMap<String, String> {
        (doc["vulnerabilities"].as_array().unwrap().iter())
            .map(|v| (file(v), v["id"].as_str().unwrap().to_string()))
            .collect()
    };
    let first = by_file(&doc);
    fs::write(
        dir.path().join("conf/app.env"),
        format!("# settings\n# more\n\n\nAWS_ACCESS_KEY_ID={k}\n"),
    )
    .unwrap();
    let again = json(&scan(dir.path(), "gitlab", &[]));
    assert_eq!(by_file(&again), first);
    let line = (again["vulnerabilities"].as_array().unwrap().iter())
        .find(|v| file(v) == "conf/app.env")
        .unwrap()["location"]["start_line"]
        .clone();
    assert_eq!(line, 5);
}

#[test]
fn gitlab_shows_the_secret_only_when_asked() {
    let (dir, k) = tree(32);
    let out = scan(dir.path(), "gitlab", &["--show-secrets"]);
    let doc = json(&out);
    assert_gitlab_valid(&doc);
    assert!(stdout(&out).contains(&k));
    assert_eq!(doc["vulnerabilities"][0]["raw_source_code_extract"], k);
}

#[test]
fn gitlab_incomplete_scan_is_a_failure() {
    let (dir, k) = tree(33);
    let out = run(
        &[
            "scan",
            ".",
            "no-such-dir",
            "--no-config",
            "--format",
            "gitlab",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    assert!(!stdout(&out).contains(&k));
    let doc = json(&out);
    assert_gitlab_valid(&doc);
    assert_eq!(doc["scan"]["status"], "failure");
    let messages = doc["scan"]["messages"].as_array().unwrap();
    assert!(
        messages
            .iter()
            .any(|m| m["value"].as_str().unwrap().contains("no-such-dir")),
        "{messages:#?}"
    );
}

#[test]
fn gitlab_clean_scan_has_no_vulnerabilities() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.txt"), "nothing here\n").unwrap();
    let out = scan(dir.path(), "gitlab", &[]);
    assert_eq!(out.status.code(), Some(0));
    let doc = json(&out);
    assert_gitlab_valid(&doc);
    assert_eq!(doc["vulnerabilities"].as_array().unwrap().len(), 0);
}

#[test]
fn gitlab_history_scan_names_the_introducing_commit() {
    let mut repo = Repo::new();
    let k = aws_key();
    repo.write("README.md", "hello\n");
    repo.commit("first");
    repo.write("deploy/creds.env", &format!("AWS_ACCESS_KEY_ID={k}\n"));
    let introducing = repo.commit("add creds");
    repo.write("deploy/creds.env", "AWS_ACCESS_KEY_ID=from-vault\n");
    repo.commit("remove creds");

    let out = run(
        &["scan", "--git", "--no-config", "--format", "gitlab"],
        &repo.path,
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(!stdout(&out).contains(&k));
    let doc = json(&out);
    assert_gitlab_valid(&doc);
    let vulns = doc["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), 1, "{doc:#}");
    let loc = &vulns[0]["location"];
    assert_eq!(loc["file"], "deploy/creds.env");
    assert_eq!(loc["commit"]["sha"], introducing.trim());
    assert_eq!(loc["commit"]["message"], "add creds");
}

// --- JUnit -----------------------------------------------------------------------------------

/// An element of the parsed document.
#[derive(Debug, Default)]
struct El {
    name: String,
    attrs: BTreeMap<String, String>,
    children: Vec<El>,
    text: String,
}

impl El {
    fn all<'a>(&'a self, name: &str) -> Vec<&'a El> {
        self.children.iter().filter(|c| c.name == name).collect()
    }
    fn attr(&self, k: &str) -> &str {
        self.attrs.get(k).map(String::as_str).unwrap_or_else(|| {
            panic!("<{}> has no {k}: {:?}", self.name, self.attrs);
        })
    }
}

/// Parses XML into a tree; a document that is not well-formed fails the test.
fn parse_xml(text: &str) -> El {
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<El> = vec![El::default()];
    let start = |e: &quick_xml::events::BytesStart| -> El {
        let mut el = El {
            name: e.name().as_ref().to_string(),
            ..Default::default()
        };
        for a in e.attributes() {
            let a = a.expect("well-formed attribute");
            let k = a.key.as_ref().to_string();
            let v = a
                .normalized_value(quick_xml::XmlVersion::Explicit1_0)
                .expect("attribute value")
                .into_owned();
            assert!(el.attrs.insert(k, v).is_none(), "duplicate attribute");
        }
        el
    };
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => stack.push(start(&e)),
            Event::Empty(e) => {
                let el = start(&e);
                stack.last_mut().unwrap().children.push(el);
            }
            Event::End(e) => {
                let el = stack.pop().unwrap();
                assert_eq!(e.name().as_ref(), el.name.as_str());
                stack.last_mut().unwrap().children.push(el);
            }
            Event::Text(t) => stack.last_mut().unwrap().text.push_str(&t.xml10_content()),
            Event::CData(t) => {
                let s = t.into_inner().into_owned();
                stack.last_mut().unwrap().text.push_str(&s);
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().expect("char ref") {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&r)
                        .expect("a predefined entity")
                        .to_string(),
                };
                stack.last_mut().unwrap().text.push_str(&c);
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements");
    let mut doc = stack.pop().unwrap();
    assert_eq!(doc.children.len(), 1, "one root element");
    doc.children.pop().unwrap()
}

/// The declarations of tests/data/junit/junit-10.xsd that our output can use: for each element,
/// its attributes (required ones marked `!`) and the child elements it may hold. An XSD
/// complexType without `anyAttribute` admits no other attribute.
fn xsd_rules() -> BTreeMap<&'static str, (Vec<&'static str>, Vec<&'static str>)> {
    let xsd = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/junit/junit-10.xsd"
    ))
    .unwrap();
    let rules = BTreeMap::from([
        (
            "testsuites",
            (
                vec!["name", "time", "tests", "failures", "errors"],
                vec!["testsuite"],
            ),
        ),
        (
            "testsuite",
            (
                vec![
                    "name!",
                    "tests!",
                    "failures!",
                    "errors!",
                    "group",
                    "time",
                    "skipped",
                    "timestamp",
                    "hostname",
                    "id",
                    "package",
                    "file",
                    "log",
                    "url",
                    "version",
                ],
                vec![
                    "testsuite",
                    "properties",
                    "testcase",
                    "system-out",
                    "system-err",
                ],
            ),
        ),
        (
            "testcase",
            (
                vec!["name!", "time", "classname", "group"],
                vec![
                    "skipped",
                    "error",
                    "failure",
                    "rerunFailure",
                    "rerunError",
                    "flakyFailure",
                    "flakyError",
                    "system-out",
                    "system-err",
                ],
            ),
        ),
        ("failure", (vec!["type", "message"], vec![])),
        ("error", (vec!["type", "message"], vec![])),
        ("skipped", (vec!["type", "message"], vec![])),
        ("system-out", (vec![], vec![])),
        ("system-err", (vec![], vec![])),
    ]);
    // The table is the XSD's: every element and attribute named here is declared there.
    for (el, (attrs, children)) in &rules {
        assert!(xsd.contains(&format!("<xs:element name=\"{el}\"")), "{el}");
        for a in attrs {
            let a = a.trim_end_matches('!');
            assert!(xsd.contains(&format!("<xs:attribute name=\"{a}\"")), "{a}");
        }
        for c in children {
            assert!(xsd.contains(&format!("<xs:element ref=\"{c}\"")), "{c}");
        }
    }
    rules
}

/// Checks a JUnit document against the XSD's structure: root, elements, attributes, the
/// `SUREFIRE_TIME` pattern for `time`, and that the counts agree with the testcases.
fn assert_junit_valid(root: &El) {
    let rules = xsd_rules();
    let time =
        regex::Regex::new(r"^((([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]{0,3})?)$").unwrap();
    fn walk(el: &El, rules: &BTreeMap<&str, (Vec<&str>, Vec<&str>)>, time: &regex::Regex) {
        let Some((attrs, children)) = rules.get(el.name.as_str()) else {
            panic!("<{}> is not declared", el.name);
        };
        for k in el.attrs.keys() {
            assert!(
                attrs.iter().any(|a| a.trim_end_matches('!') == k),
                "<{}> may not have {k}",
                el.name
            );
        }
        for a in attrs.iter().filter_map(|a| a.strip_suffix('!')) {
            assert!(el.attrs.contains_key(a), "<{}> needs {a}", el.name);
        }
        if let Some(t) = el.attrs.get("time")
            && el.name != "testcase"
        {
            assert!(time.is_match(t), "time {t:?}");
        }
        for c in &el.children {
            assert!(
                children.contains(&c.name.as_str()),
                "<{}> may not hold <{}>",
                el.name,
                c.name
            );
            walk(c, rules, time);
        }
    }
    assert_eq!(root.name, "testsuites");
    walk(root, &rules, &time);
    let mut total = (0, 0, 0);
    for s in root.all("testsuite") {
        let cases = s.all("testcase");
        let failures = cases
            .iter()
            .filter(|c| !c.all("failure").is_empty())
            .count();
        let errors = cases.iter().filter(|c| !c.all("error").is_empty()).count();
        assert_eq!(s.attr("tests"), cases.len().to_string());
        assert_eq!(s.attr("failures"), failures.to_string());
        assert_eq!(s.attr("errors"), errors.to_string());
        total.0 += cases.len();
        total.1 += failures;
        total.2 += errors;
    }
    assert_eq!(root.attr("tests"), total.0.to_string());
    assert_eq!(root.attr("failures"), total.1.to_string());
    assert_eq!(root.attr("errors"), total.2.to_string());
}

#[test]
fn junit_tree_scan_is_one_suite_per_file() {
    let (dir, k) = tree(41);
    let out = scan(dir.path(), "junit", &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert!(!text.contains(&k), "the secret is in the report");
    let root = parse_xml(&text);
    assert_junit_valid(&root);
    let suites = root.all("testsuite");
    let names: Vec<&str> = suites.iter().map(|s| s.attr("name")).collect();
    assert_eq!(names, ["b.py", "conf/app.env"]);
    let case = suites[1].all("testcase")[0];
    assert_eq!(case.attr("name"), "aws-access-key-id at line 2");
    let failure = case.all("failure")[0];
    assert_eq!(failure.attr("type"), "aws-access-key-id");
    let message = failure.attr("message");
    assert!(message.contains("conf/app.env:2"), "{message}");
    assert!(message.contains("***"), "{message}");
    assert!(failure.text.contains("severity: high"), "{}", failure.text);

    let shown = stdout(&scan(dir.path(), "junit", &["--show-secrets"]));
    assert!(shown.contains(&k));
    assert_junit_valid(&parse_xml(&shown));
}

#[test]
fn junit_clean_scan_is_a_passing_testcase() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.txt"), "nothing here\n").unwrap();
    let out = scan(dir.path(), "junit", &[]);
    assert_eq!(out.status.code(), Some(0));
    let root = parse_xml(&stdout(&out));
    assert_junit_valid(&root);
    assert_eq!(root.attr("tests"), "1");
    assert_eq!(root.attr("failures"), "0");
    let case = root.all("testsuite")[0].all("testcase")[0];
    assert!(case.children.is_empty(), "a pass has no failure");
    assert_eq!(case.attr("name"), "no secrets found in 1 file");
}

#[test]
fn junit_incomplete_scan_is_an_error() {
    let (dir, _) = tree(42);
    let out = run(
        &["scan", ".", "gone", "--no-config", "--format", "junit"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(3));
    let root = parse_xml(&stdout(&out));
    assert_junit_valid(&root);
    assert_eq!(root.attr("errors"), "1");
    assert_eq!(root.attr("failures"), "2");
}

#[test]
fn junit_escapes_markup_in_paths() {
    let mut rng = Rng::new(43);
    let dir = tempfile::tempdir().unwrap();
    let k = fake_aws_key_id(&mut rng);
    let name = r#"a&b<c>"d'.env"#;
    fs::write(dir.path().join(name), format!("AWS_ACCESS_KEY_ID={k}\n")).unwrap();
    let out = scan(dir.path(), "junit", &[]);
    let root = parse_xml(&stdout(&out));
    assert_junit_valid(&root);
    assert_eq!(root.all("testsuite")[0].attr("name"), name);
    assert!(
        root.all("testsuite")[0].all("testcase")[0].all("failure")[0]
            .attr("message")
            .contains(name)
    );
}

#[test]
fn junit_history_scan_names_the_commit() {
    let mut repo = Repo::new();
    let k = aws_key();
    repo.write("deploy/creds.env", &format!("AWS_ACCESS_KEY_ID={k}\n"));
    let introducing = repo.commit("add creds");
    let out = run(
        &["scan", "--git", "--no-config", "--format", "junit"],
        &repo.path,
    );
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(!text.contains(&k));
    let root = parse_xml(&text);
    assert_junit_valid(&root);
    let case = root.all("testsuite")[0].all("testcase")[0];
    assert!(
        case.attr("name").ends_with(&introducing.trim()[..12]),
        "{}",
        case.attr("name")
    );
    assert!(case.all("failure")[0].text.contains(introducing.trim()));
}

// --- completions and man page ------------------------------------------------------------------

#[test]
fn completions_for_every_shell_mention_scan() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = run(&["completions", shell], dir.path());
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = stdout(&out);
        assert!(text.len() > 200, "{shell}: {text}");
        assert!(text.contains("scan"), "{shell}");
        assert!(text.contains("format"), "{shell}");
    }
    let bad = run(&["completions", "tcsh"], dir.path());
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn man_page_is_roff() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["man"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    let first = text.lines().next().unwrap();
    assert!(first.starts_with('.'), "a roff request first: {first}");
    assert!(
        text.contains(".TH keywarden 1"),
        "{}",
        &text[..200.min(text.len())]
    );
    assert!(text.contains("scan"));
}

#[test]
fn help_examples_parse_and_show() {
    use clap::Parser;
    let mut n = 0;
    for line in keywarden::cli::help_examples() {
        let args = std::iter::once("keywarden").chain(line.split_whitespace());
        if let Err(e) = keywarden::cli::Cli::try_parse_from(args) {
            panic!("`keywarden {line}` does not parse: {e}");
        }
        n += 1;
    }
    assert_eq!(n, 9, "three examples for each of scan, audit and baseline");
    let dir = tempfile::tempdir().unwrap();
    for cmd in ["scan", "audit", "baseline"] {
        let text = stdout(&run(&[cmd, "--help"], dir.path()));
        assert!(text.contains("Examples:\n  keywarden "), "{cmd}: {text}");
    }
}

// --- audit JUnit -------------------------------------------------------------------------------

/// `keywarden audit` of the AWS Secrets Manager fixture at the kit's fixed time, in `format`.
fn audit_of_the_aws_fixture(format: &str) -> std::process::Output {
    use crate::common_audit::{NOW, fx};
    let dir = tempfile::tempdir().unwrap();
    let inv = fx("aws/list-secrets.json");
    run(
        &[
            "audit",
            "--now",
            NOW,
            "--inventory",
            &inv,
            "--format",
            format,
        ],
        dir.path(),
    )
}

#[test]
fn audit_junit_has_a_testcase_per_result() {
    let audit = audit_of_the_aws_fixture;
    let j = audit("json");
    let doc = json(&j);
    let out = audit("junit");
    assert_eq!(out.status.code(), j.status.code(), "same exit code as JSON");
    let root = parse_xml(&stdout(&out));
    assert_junit_valid(&root);
    let results = doc["results"].as_array().unwrap();
    assert!(!results.is_empty(), "the fixture has results");
    let status = |s: &str| results.iter().filter(|r| r["status"] == s).count();
    assert_eq!(root.attr("tests"), results.len().to_string());
    assert_eq!(root.attr("failures"), status("fail").to_string());
    let cases: Vec<&El> = (root.all("testsuite").into_iter())
        .flat_map(|s| s.all("testcase"))
        .collect();
    for r in results {
        let check = r["check"].as_str().unwrap();
        let id = r["secret_id"].as_str().unwrap();
        let c = cases
            .iter()
            .find(|c| c.attr("classname") == check && c.attr("name").starts_with(id))
            .unwrap_or_else(|| panic!("no testcase for {check} {id}"));
        let kinds: Vec<&str> = c.children.iter().map(|e| e.name.as_str()).collect();
        let want = match r["status"].as_str().unwrap() {
            "fail" => "failure",
            "review" => "system-out",
            _ => "skipped",
        };
        assert_eq!(kinds, [want], "{check} {id}");
    }
}

// --- audit GitLab ------------------------------------------------------------------------------

#[test]
fn audit_gitlab_report_is_schema_valid_with_one_vulnerability_per_failing_result() {
    let audit = audit_of_the_aws_fixture;
    let doc = json(&audit("json"));
    let out = audit("gitlab");
    let gl = json(&out);
    let errors = gitlab_schema_errors(&gl);
    assert!(errors.is_empty(), "{errors:#?}");
    let results = doc["results"].as_array().unwrap();
    let failing: Vec<&Value> = results.iter().filter(|r| r["status"] == "fail").collect();
    assert!(!failing.is_empty(), "the fixture has failing results");
    let vulns = gl["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulns.len(), failing.len());
    for r in failing {
        let check = r["check"].as_str().unwrap();
        assert!(
            vulns.iter().any(|v| v["identifiers"][0]["value"] == check
                && v["description"]
                    .as_str()
                    .unwrap()
                    .contains(r["secret_id"].as_str().unwrap())),
            "{check} missing"
        );
    }
    // Ids are stable across runs.
    assert_eq!(
        json(&audit("gitlab"))["vulnerabilities"],
        gl["vulnerabilities"]
    );
}
