//! JUnit XML, for CI dashboards that show test results (Jenkins, GitLab, Azure DevOps, ...).
//!
//! One `<testsuite>` per file with findings and one failing `<testcase>` per finding, naming
//! the rule, the line and the secret as findings carry it (redacted unless `--show-secrets`).
//! A scan without findings is one passing testcase, so a dashboard shows a pass rather than
//! nothing; an incomplete scan adds a testcase with an `<error>` naming the unread inputs.
//! The structure follows the Jenkins xUnit plugin's `junit-10.xsd` (`tests/data/junit/`).

use super::ScanReport;
use crate::pipeline::finding::Finding;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Text escaped for XML content and attribute values. Characters XML 1.0 cannot hold at all
/// (most C0 controls) become U+FFFD rather than making the document unreadable.
pub fn escape(s: &str) -> String {
    escape_as(s, true)
}

/// `attribute`: line breaks and tabs as character references, which an attribute needs (a
/// parser normalises literal ones to spaces); element content keeps them literal.
fn escape_as(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' if !attribute => out.push(c),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Seconds in the form the schema's `SUREFIRE_TIME` accepts (no thousands separators needed).
pub fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// An XML document writer for the few elements JUnit needs.
pub(crate) struct Xml {
    pub out: String,
}

impl Xml {
    pub fn new() -> Self {
        Xml {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
        }
    }

    fn tag(&mut self, indent: usize, name: &str, attrs: &[(&str, &str)]) {
        let _ = write!(self.out, "{:indent$}<{name}", "", indent = indent * 2);
        for (k, v) in attrs {
            let _ = write!(self.out, " {k}=\"{}\"", escape(v));
        }
    }

    pub fn open(&mut self, indent: usize, name: &str, attrs: &[(&str, &str)]) {
        self.tag(indent, name, attrs);
        self.out.push_str(">\n");
    }

    pub fn close(&mut self, indent: usize, name: &str) {
        let _ = writeln!(self.out, "{:indent$}</{name}>", "", indent = indent * 2);
    }

    pub fn empty(&mut self, indent: usize, name: &str, attrs: &[(&str, &str)]) {
        self.tag(indent, name, attrs);
        self.out.push_str("/>\n");
    }

    /// An element with text content.
    pub fn text(&mut self, indent: usize, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.tag(indent, name, attrs);
        let _ = writeln!(self.out, ">{}</{name}>", escape_as(text, false));
    }
}

impl Default for Xml {
    fn default() -> Self {
        Self::new()
    }
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

fn testcase(x: &mut Xml, f: &Finding) {
    let mut name = format!("{} at line {}", f.rule_id, f.line);
    if let Some(c) = &f.commit {
        name.push_str(&format!(" in commit {}", short(&c.id)));
    }
    let message = format!(
        "{} ({}) at {}:{}: {}",
        f.rule_name, f.rule_id, f.path, f.line, f.secret
    );
    let mut body = format!(
        "rule: {} ({})\nseverity: {}\nconfidence: {}\nlocation: {}:{}:{}\nsecret: {}\nfingerprint: {}\n",
        f.rule_id,
        f.rule_name,
        f.severity,
        f.confidence,
        f.path,
        f.line,
        f.column,
        f.secret,
        f.fingerprint
    );
    if let Some(d) = &f.decoded {
        let _ = writeln!(body, "decoded from: {d}");
    }
    if let Some(c) = &f.commit {
        let _ = writeln!(
            body,
            "commit: {} ({} <{}>, {})",
            c.id, c.author_name, c.author_email, c.author_date
        );
    }
    if let Some(h) = &f.history {
        let _ = writeln!(body, "{}", super::leak_advice(h));
    }
    body.push_str("Rotate the credential at its provider, then remove it from the code.");
    x.open(2, "testcase", &[("name", &name), ("classname", &f.path)]);
    x.text(
        3,
        "failure",
        &[("type", &f.rule_id), ("message", &message)],
        &body,
    );
    x.close(2, "testcase");
}

fn build(r: &ScanReport) -> String {
    let mut by_file: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in r.findings {
        by_file.entry(f.path.as_str()).or_default().push(f);
    }
    let incomplete = !r.summary.complete;
    // The keywarden suite: the pass when nothing was found, the error when inputs were unread.
    let own_cases = usize::from(r.findings.is_empty()) + usize::from(incomplete);
    let tests = r.findings.len() + own_cases;
    let failures = r.findings.len().to_string();
    let errors = usize::from(incomplete).to_string();

    let mut x = Xml::new();
    x.open(
        0,
        "testsuites",
        &[
            ("name", "keywarden"),
            ("tests", &tests.to_string()),
            ("failures", &failures),
            ("errors", &errors),
            ("time", &seconds(r.summary.elapsed_ms)),
        ],
    );
    for (path, findings) in &by_file {
        let n = findings.len().to_string();
        x.open(
            1,
            "testsuite",
            &[
                ("name", path),
                ("tests", &n),
                ("failures", &n),
                ("errors", "0"),
                ("skipped", "0"),
                ("timestamp", &r.scan_time),
                ("file", path),
            ],
        );
        for f in findings {
            testcase(&mut x, f);
        }
        x.close(1, "testsuite");
    }
    if own_cases > 0 {
        x.open(
            1,
            "testsuite",
            &[
                ("name", "keywarden"),
                ("tests", &own_cases.to_string()),
                ("failures", "0"),
                ("errors", &errors),
                ("skipped", "0"),
                ("timestamp", &r.scan_time),
            ],
        );
        if r.findings.is_empty() {
            let suppressed = if r.suppressed.is_empty() {
                String::new()
            } else {
                format!(
                    " ({} suppressed)",
                    super::Summary::count(r.suppressed.len() as u64, "finding", "findings")
                )
            };
            let name = format!(
                "no secrets found in {}{suppressed}",
                super::Summary::count(r.summary.files_scanned, "file", "files")
            );
            x.empty(
                2,
                "testcase",
                &[("name", &name), ("classname", "keywarden")],
            );
        }
        if incomplete {
            let mut body = String::new();
            for m in &r.summary.error_messages {
                let _ = writeln!(body, "{m}");
            }
            let listed = r.summary.error_messages.len() as u64;
            if r.summary.errors > listed {
                let _ = writeln!(
                    body,
                    "{} more inputs could not be read",
                    r.summary.errors - listed
                );
            }
            let message = format!(
                "the scan is incomplete: {} could not be read",
                super::Summary::count(r.summary.errors, "input", "inputs")
            );
            x.open(
                2,
                "testcase",
                &[("name", "scan completeness"), ("classname", "keywarden")],
            );
            x.text(
                3,
                "error",
                &[("type", "incomplete"), ("message", &message)],
                &body,
            );
            x.close(2, "testcase");
        }
        x.close(1, "testsuite");
    }
    x.close(0, "testsuites");
    x.out
}

pub(crate) fn write(r: &ScanReport, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    out.write_all(build(r).as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_quotes_and_controls() {
        assert_eq!(escape(r#"a&b<c>d"e'f"#), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
        assert_eq!(escape("x\ny\u{1}z"), "x&#10;y\u{FFFD}z");
        assert_eq!(escape_as("x\ny\tz", false), "x\ny\tz");
    }

    #[test]
    fn seconds_fit_surefire_time() {
        assert_eq!(seconds(0), "0.000");
        assert_eq!(seconds(1234567), "1234.567");
    }
}
