//! SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.

use super::ScanReport;
use crate::pipeline::finding::Finding;
use crate::rules::{Confidence, Rule, Severity};
use serde_json::{Value, json};
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, Message, MultiformatMessageString, PhysicalLocation,
    PropertyBag, Region, ReportingConfiguration, ReportingDescriptor, Result as SarifResult,
    ResultLevel, Run, Sarif, Suppression, Tool, ToolComponent, VersionControlDetails,
};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

pub(crate) const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    s.sarif_level()
}

/// GitHub's `security-severity`: a CVSS-like score as a string.
pub fn security_severity(s: Severity) -> &'static str {
    s.security_severity()
}

/// The typed SARIF level of a severity, from the one table scan and audit share
/// ([`Severity::sarif_level`]).
pub fn result_level(s: Severity) -> ResultLevel {
    match s.sarif_level() {
        "error" => ResultLevel::Error,
        "warning" => ResultLevel::Warning,
        _ => ResultLevel::Note,
    }
}

fn precision(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "very-high",
        Confidence::Medium => "high",
        Confidence::Low => "medium",
    }
}

/// Stable across line shifts and history: derived from the value fingerprint and the path.
pub fn line_hash(f: &Finding) -> String {
    let mut h = Sha256::new();
    h.update(crate::pipeline::fingerprint::tracking_key(&f.fingerprint).as_bytes());
    h.update(b"\0");
    h.update(f.rule_id.as_bytes());
    h.update(b"\0");
    h.update(f.path.as_bytes());
    format!("{}:1", &hex::encode(h.finalize())[..16])
}

pub(crate) fn bag(tags: Option<Vec<String>>, props: BTreeMap<String, Value>) -> PropertyBag {
    match tags {
        Some(t) => PropertyBag::builder()
            .tags(t)
            .additional_properties(props)
            .build(),
        None => PropertyBag::builder().additional_properties(props).build(),
    }
}

fn descriptor(rule: &Rule) -> ReportingDescriptor {
    let mut tags = vec!["security".to_string(), "secret".to_string()];
    tags.extend(rule.tags.iter().cloned());
    let mut props = BTreeMap::new();
    props.insert("precision".into(), json!(precision(rule.confidence)));
    props.insert(
        "security-severity".into(),
        json!(security_severity(rule.severity)),
    );
    props.insert("problem.severity".into(), json!(level(rule.severity)));
    let refs = if rule.references.is_empty() {
        String::new()
    } else {
        format!(
            "\n\nReferences:\n{}",
            rule.references
                .iter()
                .map(|r| format!("- {r}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    };
    let advice = "Revoke or rotate the credential at its provider first (removing it from the code does not make it safe: it stays in history), then remove it from the code and load it from a secrets manager or environment.";
    let desc = if rule.description.is_empty() {
        rule.name.clone()
    } else {
        rule.description.clone()
    };
    let help_text = format!("{desc}\n\n{advice}{refs}");
    let help_md = format!("**{}**\n\n{desc}\n\n{advice}{refs}", rule.name);
    ReportingDescriptor::builder()
        .id(rule.id.clone())
        .name(rule.name.clone())
        .short_description(
            MultiformatMessageString::builder()
                .text(rule.name.clone())
                .build(),
        )
        .full_description(MultiformatMessageString::builder().text(desc).build())
        .help(
            MultiformatMessageString::builder()
                .text(help_text)
                .markdown(help_md)
                .build(),
        )
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!(level(rule.severity)))
                .build(),
        )
        .properties(bag(Some(tags), props))
        .build()
}

fn result(
    f: &Finding,
    rule_index: i64,
    suppression: Option<(&str, Option<&str>)>,
    baseline_state: Option<&str>,
) -> SarifResult {
    let region = Region::builder()
        .start_line(f.line as i64)
        .start_column(f.column as i64)
        .end_line(f.end_line as i64)
        .end_column(f.end_column.max(1) as i64)
        .build();
    let loc = Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(
                    ArtifactLocation::builder()
                        .uri(uri_path(&f.path))
                        .uri_base_id("%SRCROOT%")
                        .build(),
                )
                .region(region)
                .build(),
        )
        .build();
    let mut props = BTreeMap::new();
    props.insert("fingerprint".into(), json!(f.fingerprint));
    props.insert("confidence".into(), json!(f.confidence));
    props.insert("severity".into(), json!(f.severity));
    props.insert("entropy".into(), json!(f.entropy));
    props.insert("secret".into(), json!(f.secret));
    if let Some(k) = &f.key_id {
        props.insert("key_id".into(), json!(k));
    }
    if let Some(name) = &f.field {
        props.insert("field".into(), json!(name));
    }
    if let Some(d) = &f.decoded {
        props.insert("decoded".into(), json!(d));
    }
    if let Some(c) = &f.commit {
        props.insert("commit".into(), json!(c.id));
        props.insert("author".into(), json!(c.author_name));
        props.insert("email".into(), json!(c.author_email));
        props.insert("date".into(), json!(c.author_date));
        props.insert("committer_date".into(), json!(c.committer_date));
        props.insert("commit_summary".into(), json!(c.summary));
    }
    let mut todo = "Rotate it, then remove it.".to_string();
    if let Some(h) = &f.history {
        props.insert("present".into(), json!(h.present));
        props.insert("occurrences".into(), json!(h.occurrences));
        props.insert("refs".into(), json!(h.refs));
        props.insert("ref_names".into(), json!(h.ref_names));
        if let Some(c) = &h.last_seen {
            props.insert("last_seen".into(), json!(c.id));
        }
        if let Some(c) = &h.removed_in {
            props.insert("removed_in".into(), json!(c.id));
            props.insert("removed_date".into(), json!(c.committer_date));
        }
        if !h.present {
            let advice = super::leak_advice(h);
            todo = format!("{}{}.", advice[..1].to_uppercase(), &advice[1..]);
        }
    }
    let mut where_ = format!("{}:{}", f.path, f.line);
    if let Some(name) = &f.field {
        where_.push_str(&format!(" (field {name})"));
    }
    if let Some(c) = &f.commit {
        where_.push_str(&format!(" in commit {}", &c.id[..c.id.len().min(12)]));
    }
    let text = format!("{} found at {where_} ({}). {todo}", f.rule_name, f.secret);
    let mut fps = BTreeMap::new();
    fps.insert("primaryLocationLineHash".to_string(), line_hash(f));
    let base = SarifResult::builder()
        .rule_id(f.rule_id.clone())
        .rule_index(rule_index)
        .level(result_level(f.severity))
        .message(Message::builder().text(text).build())
        .locations(vec![loc])
        .partial_fingerprints(fps)
        .properties(bag(None, props));
    let mut res = base.build();
    res.baseline_state = baseline_state.map(|b| json!(b));
    if let Some((kind, just)) = suppression {
        let mut sup = Suppression::builder().kind(json!(kind)).build();
        sup.justification = just.map(str::to_string);
        res.suppressions = Some(vec![sup]);
    }
    res
}

/// Paths are relative URIs: percent-encode what a URI cannot hold.
fn uri_path(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn build(r: &ScanReport) -> Sarif {
    let by_id: HashMap<&str, &Rule> = r.rules.iter().map(|x| (x.id.as_str(), x)).collect();
    let mut fired: Vec<&str> = r
        .findings
        .iter()
        .map(|f| f.rule_id.as_str())
        .chain(r.suppressed.iter().map(|s| s.finding.rule_id.as_str()))
        .collect();
    fired.sort_unstable();
    fired.dedup();
    let mut descriptors = Vec::new();
    let mut index = HashMap::new();
    for id in fired {
        let d = match by_id.get(id) {
            Some(rule) => descriptor(rule),
            None => ReportingDescriptor::builder()
                .id(id.to_string())
                .short_description(
                    MultiformatMessageString::builder()
                        .text(id.to_string())
                        .build(),
                )
                .build(),
        };
        index.insert(id.to_string(), descriptors.len() as i64);
        descriptors.push(d);
    }
    let mut results: Vec<SarifResult> = r
        .findings
        .iter()
        .map(|f| result(f, index[&f.rule_id], None, r.baseline_used.then_some("new")))
        .collect();
    for s in r.suppressed {
        let kind = if s.by == "inline" {
            "inSource"
        } else {
            "external"
        };
        results.push(result(
            &s.finding,
            index[&s.finding.rule_id],
            Some((kind, s.justification.as_deref().or(Some(s.by.as_str())))),
            (s.by == "baseline").then_some("unchanged"),
        ));
    }
    let driver = ToolComponent::builder()
        .name("keywarden")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .information_uri("https://github.com/keywarden/keywarden")
        .rules(descriptors)
        .build();
    // A scan that could not read all its inputs did not succeed, whatever it found; each
    // unread input is a notification so that a dashboard shows why.
    let mut invocation = Invocation::builder()
        .execution_successful(r.summary.errors == 0)
        .start_time_utc(r.scan_time.clone())
        .build();
    if r.summary.errors > 0 {
        let mut notes: Vec<Value> = (r.summary.error_messages.iter())
            .map(|m| json!({"level": "error", "message": {"text": m}}))
            .collect();
        let listed = r.summary.error_messages.len() as u64;
        if r.summary.errors > listed {
            notes.push(json!({"level": "error", "message": {"text": format!(
                "{} more inputs could not be read", r.summary.errors - listed)}}));
        }
        invocation.tool_execution_notifications = Some(
            notes
                .into_iter()
                .filter_map(|n| serde_json::from_value(n).ok())
                .collect(),
        );
    }
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .invocations(vec![invocation])
        .column_kind(json!("unicodeCodePoints"));
    let run = match &r.vcs {
        Some(v) => {
            let mut d = VersionControlDetails::builder()
                .repository_uri(v.repository_uri.clone())
                .build();
            d.revision_id = v.revision_id.clone();
            d.branch = v.branch.clone();
            run.version_control_provenance(vec![d]).build()
        }
        None => run.build(),
    };
    Sarif::builder()
        .schema(SCHEMA_URI)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build()
}

pub(crate) fn write(r: &ScanReport, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &build(r))?;
    writeln!(out)?;
    Ok(())
}
