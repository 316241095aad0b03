//! `keywarden rules check`: compile every rule and run its examples through the real engine.

use crate::engine::{CompiledRule, Engine};
use crate::rules::{Rule, lint};

/// The outcome of `rules check` over a rule set.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// How many rules were checked.
    pub rules: usize,
    /// Problems that make the set unusable: bad ids, regexes that do not compile, examples that
    /// do not match, negative examples that do. Each names its rule.
    pub errors: Vec<String>,
    /// Problems worth fixing that do not fail the check unless `--strict`: missing descriptions,
    /// references or negative examples, rules without keywords.
    pub warnings: Vec<String>,
}

impl CheckReport {
    /// True when there are no errors (warnings do not count).
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Every example must produce a finding of its rule, every negative example none, with the
/// rule run alone (keyword prefilter, regex and filters as in a scan). An example must also
/// match where it sits between other lines of a file.
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
            } else if engine.scan(in_a_file(ex).as_bytes()).is_empty() {
                // E.g. a `$` without `(?m)`: it matches only at the end of the whole file.
                errors.push(format!(
                    "{}: example matches alone but not between other lines of a file: {ex:?}",
                    rule.id
                ));
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

/// `example` as a line of a file, with lines before and after it.
fn in_a_file(example: &str) -> String {
    format!("# settings\n{example}\n# end\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(regex: &str) -> Vec<Rule> {
        let text = format!(
            "[[rule]]\nid = \"t\"\nname = \"t\"\nregex = '''{regex}'''\nkeywords = [\"tok_\"]\nexamples = [\"TOKEN=tok_Zq8Lw3Tt7Xk2Vm9R\"]\n"
        );
        crate::rules::parse_rule_file("t.toml", &text).unwrap()
    }

    #[test]
    fn an_example_must_match_inside_a_file_too() {
        // Without (?m), `$` is the end of the whole file: the example alone matches, the same
        // line in a file does not.
        let bad = check(&rule(r"\b(?P<secret>tok_[A-Za-z0-9]{16})$"));
        assert_eq!(bad.errors.len(), 1, "{:?}", bad.errors);
        assert!(bad.errors[0].contains("between other lines"));
        let good = check(&rule(r"(?m)\b(?P<secret>tok_[A-Za-z0-9]{16})$"));
        assert!(good.ok(), "{:?}", good.errors);
    }
    #[test]
    fn a_path_rule_needs_no_keywords_and_a_valid_path() {
        let text = |path: &str| {
            format!(
                "[[rule]]\nid = \"f\"\nname = \"f\"\nregex = '''(?m)^(?P<secret>[a-f0-9]{{32}})$'''\n\
                 path = '''{path}'''\nexamples = [\"7c1e9a4f2d8b6e0a3f5c9d1b7e4a2c8f\"]\n"
            )
        };
        let rules = |path: &str| crate::rules::parse_rule_file("t.toml", &text(path)).unwrap();
        let ok = check(&rules(r"master\.key$"));
        assert!(ok.ok(), "{:?}", ok.errors);
        let about_keywords = ok.warnings.iter().filter(|w| w.contains("keywords"));
        assert_eq!(about_keywords.count(), 0, "{:?}", ok.warnings);
        let bad = check(&rules(r"master(\.key$"));
        assert!(
            bad.errors.iter().any(|e| e.contains("invalid path regex")),
            "{:?}",
            bad.errors
        );
    }
}
