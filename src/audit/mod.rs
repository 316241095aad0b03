//! Rotation-compliance auditor: `keywarden audit` over secrets-manager metadata, audit
//! logs and keywarden's own scan findings.

pub mod checks;
pub mod findings;
pub mod input;
pub mod inventory;
pub mod logs;
pub mod model;
pub mod policy;
pub mod report;
pub mod time;

use std::io::Write;

use anyhow::{Context, Result, anyhow, bail};

use checks::Severity;
use input::{InputFormat, InputSpec, Role};
use inventory::BadRecord;

/// Command-line arguments of `keywarden audit`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct AuditArgs {
    /// Secret inventory exports (format detected from content, or FORMAT:FILE; `.gz` and `-` work).
    #[arg(long = "inventory", value_name = "FILE", num_args = 1.., action = clap::ArgAction::Append)]
    pub inventory: Vec<String>,
    /// Audit logs: CloudTrail, Vault audit device, GCP Cloud Audit Logs, Azure Key Vault AuditEvent.
    #[arg(long = "log", value_name = "FILE", num_args = 1.., action = clap::ArgAction::Append)]
    pub log: Vec<String>,
    /// keywarden scan output (JSON, JSONL or SARIF) to tie leaks to the inventory.
    #[arg(long = "findings", value_name = "FILE", num_args = 1.., action = clap::ArgAction::Append)]
    pub findings: Vec<String>,
    /// Rotation policy (TOML), layered on the built-in default.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<String>,
    /// Fixed "today" (RFC3339) for reproducible reports.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// Report format.
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json", "sarif", "markdown", "junit"])]
    pub format: String,
    /// Write the report here instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<String>,
    /// Exit 1 when a failing result has at least this severity (info, low, medium, high, critical, none).
    #[arg(long = "fail-on", value_name = "SEVERITY", default_value = "high")]
    pub fail_on: String,
}

/// Runs the audit and returns the process exit code (0 ok, 1 failing result at/above
/// --fail-on, 2 bad input).
pub fn run(args: &AuditArgs) -> Result<i32> {
    match run_inner(args) {
        Ok(code) => Ok(code),
        Err(e) => {
            eprintln!("keywarden audit: {e:#}");
            Ok(2)
        }
    }
}

/// Everything read from the inputs.
pub struct Loaded {
    pub items: Vec<model::Item>,
    pub activity: logs::Activity,
    pub leaks: Vec<model::Leak>,
    pub inputs: Vec<report::InputInfo>,
    pub bad: Vec<BadRecord>,
}

fn open_spec(
    arg: &str,
    role: Role,
    stdin_used: &mut bool,
) -> Result<(InputSpec, InputFormat, input::Reader)> {
    let spec = InputSpec::parse(arg)?;
    if spec.path == "-" {
        if *stdin_used {
            bail!("stdin (-) can be given only once");
        }
        *stdin_used = true;
    }
    let (reader, prefix) = input::open(&spec.path)?;
    let format = match spec.format {
        Some(f) => {
            if f.role() != role {
                bail!("{}: format {} is not valid here", spec.display(), f.name());
            }
            f
        }
        None => match input::detect(&prefix, role) {
            Some(f) => f,
            None => {
                let other = [
                    (Role::Log, "--log"),
                    (Role::Findings, "--findings"),
                    (Role::Inventory, "--inventory"),
                ]
                .into_iter()
                .filter(|(r, _)| *r != role)
                .find_map(|(r, flag)| input::detect(&prefix, r).map(|f| (f, flag)));
                match other {
                    Some((f, flag)) => bail!(
                        "{}: this looks like {} input; give it with {flag}",
                        spec.display(),
                        f.name()
                    ),
                    None => bail!(
                        "{}: cannot tell the format from the content; name it as FORMAT:{}",
                        spec.display(),
                        spec.path
                    ),
                }
            }
        },
    };
    Ok((spec, format, reader))
}

/// Reads all inputs (findings first, so log streaming can count uses of leaked keys).
pub fn load_inputs(args: &AuditArgs) -> Result<Loaded> {
    let mut stdin_used = false;
    inventory::reset_fingerprint_budget();
    let mut out = Loaded {
        items: Vec::new(),
        activity: logs::Activity::default(),
        leaks: Vec::new(),
        inputs: Vec::new(),
        bad: Vec::new(),
    };
    for arg in &args.findings {
        let (spec, format, reader) = open_spec(arg, Role::Findings, &mut stdin_used)?;
        let before = out.bad.len();
        let n = findings::load(
            format,
            reader,
            &spec.display(),
            &mut out.leaks,
            &mut out.bad,
        )
        .with_context(|| format!("reading {}", spec.display()))?;
        out.inputs.push(report::InputInfo {
            file: spec.display(),
            role: "findings",
            format: format.name(),
            records: n,
            errors: out.bad.len() - before,
        });
    }
    for l in &out.leaks {
        if let Some(k) = &l.key_id {
            let t = l.time.unwrap_or(i64::MAX);
            let e = out.activity.leaked_keys.entry(k.clone()).or_insert(t);
            *e = (*e).min(t);
        }
    }
    for arg in &args.inventory {
        let (spec, format, reader) = open_spec(arg, Role::Inventory, &mut stdin_used)?;
        let before = out.bad.len();
        let n = inventory::load(
            format,
            reader,
            &spec.display(),
            &mut out.items,
            &mut out.bad,
        )
        .with_context(|| format!("reading {}", spec.display()))?;
        out.inputs.push(report::InputInfo {
            file: spec.display(),
            role: "inventory",
            format: format.name(),
            records: n,
            errors: out.bad.len() - before,
        });
    }
    for arg in &args.log {
        let (spec, format, reader) = open_spec(arg, Role::Log, &mut stdin_used)?;
        let before = out.bad.len();
        let n = logs::load(
            format,
            reader,
            &spec.display(),
            &mut out.activity,
            &mut out.bad,
        )
        .with_context(|| format!("reading {}", spec.display()))?;
        out.inputs.push(report::InputInfo {
            file: spec.display(),
            role: "log",
            format: format.name(),
            records: n,
            errors: out.bad.len() - before,
        });
    }
    Ok(out)
}

fn run_inner(args: &AuditArgs) -> Result<i32> {
    let fail_on = match args.fail_on.to_ascii_lowercase().as_str() {
        "none" | "never" => None,
        s => Some(Severity::parse(s).ok_or_else(|| {
            anyhow!("--fail-on {s:?}: expected info, low, medium, high, critical or none")
        })?),
    };
    let now = match &args.now {
        Some(n) => {
            time::parse_str(n).ok_or_else(|| anyhow!("--now {n:?} is not an RFC3339 date"))?
        }
        None => jiff::Timestamp::now().as_second(),
    };
    let policy_text = match &args.policy {
        Some(p) => Some((
            p.clone(),
            std::fs::read_to_string(p).with_context(|| format!("cannot read policy {p}"))?,
        )),
        None => None,
    };
    let policy = policy::Policy::load(policy_text.as_ref().map(|(n, t)| (n.as_str(), t.as_str())))?;
    if args.inventory.is_empty() && args.log.is_empty() && args.findings.is_empty() {
        bail!("nothing to audit: give --inventory, --log and/or --findings files");
    }
    let loaded = load_inputs(args)?;
    let audit = checks::run(loaded.items, &loaded.activity, &loaded.leaks, &policy, now);
    let data = report::ReportData {
        audit: &audit,
        inputs: loaded.inputs,
        bad: loaded.bad,
        coverage: loaded.activity.coverage.clone(),
        policy_source: policy.source.clone(),
        policy_sha256: policy.sha256.clone(),
        fail_on,
    };
    let text = match args.format.as_str() {
        "json" => serde_json::to_string_pretty(&report::json::render(&data))? + "\n",
        "sarif" => serde_json::to_string_pretty(&report::sarif::render(&data))? + "\n",
        "markdown" => report::markdown::render(&data),
        "junit" => report::junit::render(&data),
        _ => report::text::render(&data),
    };
    match &args.output {
        Some(path) if path != "-" => {
            std::fs::write(path, text).with_context(|| format!("cannot write {path}"))?
        }
        _ => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an audit failure.
            let _ = out.write_all(text.as_bytes());
        }
    }
    Ok(if data.exit_failing() > 0 { 1 } else { 0 })
}

/// Parses arbitrary bytes as the named input kind, discarding results: the fuzz entry
/// point. Kinds are format names (`aws-secrets`, `cloudtrail`, …) and `policy`.
pub fn fuzz_parse(kind: &str, data: &[u8]) {
    if kind == "policy" {
        if let Ok(text) = std::str::from_utf8(data) {
            let _ = policy::Policy::load(Some(("fuzz", text)));
        }
        return;
    }
    let Some(format) = InputFormat::from_name(kind) else {
        return;
    };
    let mut bad = Vec::new();
    let reader = std::io::BufReader::new(data);
    match format.role() {
        Role::Inventory => {
            let mut items = Vec::new();
            let _ = inventory::load(format, reader, "fuzz", &mut items, &mut bad);
            let p = policy::Policy::load(None);
            if let Ok(p) = p {
                let _ = checks::run(items, &logs::Activity::default(), &[], &p, 1_700_000_000);
            }
        }
        Role::Log => {
            let mut act = logs::Activity::default();
            let _ = logs::load(format, reader, "fuzz", &mut act, &mut bad);
            if let Ok(p) = policy::Policy::load(None) {
                let _ = checks::run(Vec::new(), &act, &[], &p, 1_700_000_000);
            }
        }
        Role::Findings => {
            let mut leaks = Vec::new();
            let _ = findings::parse_bytes(format, data, "fuzz", &mut leaks, &mut bad);
        }
    }
}
