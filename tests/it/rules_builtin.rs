//! Every built-in rule compiles and its examples behave, through the real engine.

use keywarden::rules;

#[test]
fn builtin_rules_pass_their_examples() {
    let all = rules::builtin().expect("rule files parse");
    let report = keywarden::rules::check::check(&all);
    assert!(
        report.errors.is_empty(),
        "rule errors:\n{}",
        report.errors.join("\n")
    );
}

#[test]
fn builtin_rules_are_documented_and_exemplified() {
    let all = rules::builtin().unwrap();
    let mut problems = Vec::new();
    for r in &all {
        if r.examples.len() < 2 {
            problems.push(format!("{}: fewer than 2 examples", r.id));
        }
        if r.negative_examples.len() < 2 {
            problems.push(format!("{}: fewer than 2 negative examples", r.id));
        }
        if r.description.trim().is_empty() {
            problems.push(format!("{}: no description", r.id));
        }
        if r.references.is_empty() {
            problems.push(format!("{}: no references", r.id));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn rules_check_fails_on_a_broken_example() {
    let mut all = rules::builtin().unwrap();
    let r = all
        .iter_mut()
        .find(|r| r.id == "aws-access-key-id")
        .unwrap();
    r.examples.push("no key here".into());
    r.negative_examples.push("AKIAZ4QF7RW2MLKJ5V3N".into()); // keywarden:allow
    let report = keywarden::rules::check::check(std::slice::from_ref(r));
    assert_eq!(report.errors.len(), 2, "{:?}", report.errors);
}

#[test]
fn embedded_rules_are_the_rule_files() {
    // The binary embeds rules/*.toml converted to JSON at build time; nothing may change in
    // the conversion.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let from_files: Vec<rules::Rule> = files
        .iter()
        .flat_map(|f| rules::load_file(f).unwrap())
        .collect();
    let embedded = rules::builtin().unwrap();
    assert!(embedded.len() >= 120);
    assert_eq!(
        serde_json::to_value(&embedded).unwrap(),
        serde_json::to_value(&from_files).unwrap()
    );
}
