//! `keywarden rules check`: compile every rule and run its examples through the real engine.

use crate::engine::{CompiledRule, Engine};
use crate::rules::{Rule, lint};

#[derive(Debug, Default)]
pub struct CheckReport {
    pub rules: usize,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

impl CheckReport {
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Every example must produce a finding of its rule, every negative example none, with the
/// rule run alone (keyword prefilter, regex and filters as in a scan).
pub fn check(rules: &[Rule]) -> CheckReport {
    let (mut errors, warnings) = lint(rules);
    for rule in rules {
        let compiled = match CompiledRule::compile(rule.clone()) {
            Ok(c) => c,
            Err(e) => {
                errors.push(format!("{e:#}"));
                continue;
            }
        };
        let engine = match Engine::from_compiled(vec![compiled]) {
            Ok(e) => e,
            Err(e) => {
                errors.push(format!("{}: {e:#}", rule.id));
                continue;
            }
        };
        for ex in &rule.examples {
            if engine.scan(ex.as_bytes()).is_empty() {
                errors.push(format!("{}: example does not match: {ex:?}", rule.id));
            }
        }
        for ex in &rule.negative_examples {
            if !engine.scan(ex.as_bytes()).is_empty() {
                errors.push(format!("{}: negative example matches: {ex:?}", rule.id));
            }
        }
    }
    CheckReport {
        rules: rules.len(),
        errors,
        warnings,
    }
}
