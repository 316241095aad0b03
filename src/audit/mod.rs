//! Rotation-compliance auditor: `keywarden audit` over secrets-manager metadata, audit
//! logs and keywarden's own scan findings.

pub mod access;
pub mod checks;
pub mod findings;
pub mod fuzz;
pub mod input;
pub mod inventory;
pub mod join;
pub mod logs;
pub mod model;
pub mod policy;
pub mod previous;
pub mod report;
pub mod time;
pub mod utf16;

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
    /// Access policies (IAM authorization details, secret resource policies, Kubernetes RBAC,
    /// Vault policies, GCP IAM policies, Key Vault access): who can read which secrets.
    #[arg(long = "policy-doc", value_name = "FILE", num_args = 1.., action = clap::ArgAction::Append)]
    pub policy_doc: Vec<String>,
    /// A previous `audit --format json` report: marks each result new, still open (since
    /// when) or resolved.
    #[arg(long, value_name = "OLD.json")]
    pub previous: Option<String>,
    /// Rotation policy (TOML), layered on the built-in default.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<String>,
    /// Fixed "today" (RFC3339) for reproducible reports.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// Report format: text, json (the stable machine format, keywarden/audit/v1), sarif,
    /// markdown, junit, gitlab, or html (one self-contained page with sortable tables).
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "json", "sarif", "markdown", "html", "junit", "gitlab"])]
    pub format: String,
    /// Write the report here instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<String>,
    /// Exit 1 when a failing result has at least this severity (info, low, medium, high, critical, none).
    #[arg(long = "fail-on", value_name = "SEVERITY", default_value = "high")]
    pub fail_on: String,
    /// Accept a partial audit: an input that could not be read to its end (truncated JSON or
    /// `.gz`) no longer means exit 2. Every report still says "partial".
    #[arg(long = "allow-partial")]
    pub allow_partial: bool,
}

/// Runs the audit and returns the process exit code (0 ok, 1 failing result at/above
/// --fail-on, 2 bad input, or a partial audit without --allow-partial).
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
struct Loaded {
    pub items: Vec<model::Item>,
    /// The secrets managers' own settings (Key Vaults, Vault audit devices).
    pub stores: Vec<model::Store>,
    pub activity: logs::Activity,
    pub leaks: Vec<model::Leak>,
    pub access: access::AccessData,
    pub inputs: Vec<report::InputInfo>,
    pub bad: Vec<BadRecord>,
    /// Records read with a workaround (kept, unlike `bad`), with where they are.
    pub notes: Vec<BadRecord>,
}

/// An input as opened: to parse with its format, or settled without parsing.
enum Opened {
    Parse(InputSpec, &'static InputFormat, input::Reader),
    /// An empty export whose format cannot be told (`[]`, `{"Events": []}`, nothing).
    Empty(InputSpec),
    /// A CloudTrail digest file among the logs.
    Digest(InputSpec),
    /// Reading failed before the format could be told (a corrupt `.gz`).
    Unreadable(InputSpec, String),
}

fn open_spec(arg: &str, role: Role, stdin_used: &mut bool) -> Result<Opened> {
    let spec = InputSpec::parse(arg)?;
    if spec.path == "-" {
        if *stdin_used {
            bail!("stdin (-) can be given only once");
        }
        *stdin_used = true;
    }
    let opened = input::open(&spec.path)?;
    let prefix = &opened.prefix;
    // `aws s3 sync` of the `AWSLogs/` prefix brings the digest files along with the logs;
    // they hold hashes of log files, not events, so they are counted and skipped.
    if role == Role::Log && input::is_cloudtrail_digest(prefix) {
        return Ok(Opened::Digest(spec));
    }
    let format = match spec.format {
        Some(f) => {
            if f.role() != role {
                bail!("{}: format {} is not valid here", spec.display(), f.name());
            }
            f
        }
        None => match input::detect(prefix, role) {
            Some(f) => f,
            None => {
                if let Some(e) = opened.read_error {
                    return Ok(Opened::Unreadable(spec, e));
                }
                if input::is_empty_export(prefix, role) {
                    return Ok(Opened::Empty(spec));
                }
                let other = [
                    (Role::Log, "--log"),
                    (Role::Findings, "--findings"),
                    (Role::Inventory, "--inventory"),
                    (Role::PolicyDoc, "--policy-doc"),
                ]
                .into_iter()
                .filter(|(r, _)| *r != role)
                .find_map(|(r, flag)| input::detect(prefix, r).map(|f| (f, flag)));
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
    Ok(Opened::Parse(spec, format, opened.reader))
}

/// Reads all inputs (findings first, so log streaming can count uses of leaked keys).
/// An input that cannot be read to its end is kept as far as it was read and marked
/// partial, and the other inputs are still read: one truncated `.gz` among many log files
/// must not cost the whole report. Whether a partial audit fails is decided by the caller.
/// `window` is where the logs' recent period starts (the access-pattern checks split reads
/// there while the logs stream).
/// The policy's `[machine]` settings judge log events as they stream.
fn load_inputs(args: &AuditArgs, policy: &policy::Policy, window: logs::Window) -> Result<Loaded> {
    let mut stdin_used = false;
    inventory::reset_fingerprint_budget();
    let mut out = Loaded {
        items: Vec::new(),
        stores: Vec::new(),
        activity: logs::Activity::new(window, policy.machine.clone()),
        leaks: Vec::new(),
        access: access::AccessData::default(),
        inputs: Vec::new(),
        bad: Vec::new(),
        notes: Vec::new(),
    };
    let roles = [
        (Role::Findings, "findings", &args.findings),
        (Role::Inventory, "inventory", &args.inventory),
        (Role::Log, "log", &args.log),
        (Role::PolicyDoc, "policy-doc", &args.policy_doc),
    ];
    for (role, role_name, list) in roles {
        if role == Role::Inventory {
            findings::pair_aws_keys(&mut out.leaks);
            for l in &out.leaks {
                if let Some(k) = &l.key_id {
                    let t = l.time.unwrap_or(i64::MAX);
                    let e = out.activity.leaked_keys.entry(k.clone()).or_insert(t);
                    *e = (*e).min(t);
                }
            }
        }
        for arg in list {
            let before = out.bad.len();
            let info = |spec: &InputSpec, format: &'static str| report::InputInfo {
                file: spec.display(),
                role: role_name,
                format,
                records: 0,
                errors: 0,
                partial: false,
                skipped: false,
            };
            let (spec, format, reader) = match open_spec(arg, role, &mut stdin_used)? {
                Opened::Parse(spec, format, reader) => (spec, format, reader),
                Opened::Empty(spec) => {
                    out.inputs.push(info(&spec, "empty"));
                    continue;
                }
                Opened::Digest(spec) => {
                    let mut i = info(&spec, "cloudtrail-digest");
                    i.skipped = true;
                    out.inputs.push(i);
                    continue;
                }
                Opened::Unreadable(spec, error) => {
                    out.bad.push(BadRecord {
                        loc: model::Loc {
                            file: spec.display(),
                            line: 0,
                        },
                        error: format!("input could not be read: {error}"),
                    });
                    let mut i = info(&spec, "unknown");
                    i.partial = true;
                    i.errors = 1;
                    out.inputs.push(i);
                    continue;
                }
            };
            let name = spec.display();
            let items_before = out.items.len();
            let res = match role {
                Role::Findings => {
                    findings::load(format, reader, &name, &mut out.leaks, &mut out.bad)
                }
                Role::Inventory => inventory::load(
                    format,
                    reader,
                    &name,
                    &mut out.items,
                    &mut out.stores,
                    &mut out.bad,
                ),
                Role::Log => logs::load(format, reader, &name, &mut out.activity, &mut out.bad),
                Role::PolicyDoc => {
                    access::load(format, reader, &name, &mut out.access, &mut out.bad)
                }
            };
            let count = match res {
                Ok(c) => c,
                Err(e) => {
                    out.bad.push(BadRecord {
                        loc: model::Loc {
                            file: name.clone(),
                            line: 0,
                        },
                        error: format!("input could not be read to the end: {e}"),
                    });
                    input::Count {
                        records: 0,
                        partial: true,
                    }
                }
            };
            for it in &mut out.items[items_before..] {
                for text in it.notes.drain(..) {
                    out.notes.push(BadRecord {
                        loc: it.loc.clone(),
                        error: format!("{}: {text}", it.id),
                    });
                }
            }
            out.notes.append(&mut out.activity.notes);
            out.notes.append(&mut out.access.notes);
            let mut i = info(&spec, format.name());
            i.records = count.records;
            i.partial = count.partial;
            i.errors = out.bad.len() - before;
            out.inputs.push(i);
        }
    }
    out.access.finish();
    out.notes.append(&mut out.access.notes);
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
    if args.inventory.is_empty()
        && args.log.is_empty()
        && args.findings.is_empty()
        && args.policy_doc.is_empty()
    {
        bail!("nothing to audit: give --inventory, --log, --findings and/or --policy-doc files");
    }
    // Read before the inputs: a wrong --previous is bad input, and no report is written.
    let previous = match &args.previous {
        Some(p) => Some(previous::Previous::load(p)?),
        None => None,
    };
    let loaded = load_inputs(args, &policy, logs::Window::new(now, &policy.patterns))?;
    let audit = checks::run(
        loaded.items,
        &loaded.stores,
        &loaded.activity,
        &loaded.leaks,
        Some(&loaded.access),
        &policy,
        now,
    );
    let changes = previous.map(|p| p.compare(&audit.outcomes, now));
    let data = report::ReportData {
        audit: &audit,
        changes,
        inputs: loaded.inputs,
        bad: loaded.bad,
        notes: loaded.notes,
        unrelated: loaded.activity.unrelated.clone(),
        notes_dropped: loaded.activity.notes_dropped,
        coverage: loaded.activity.coverage.clone(),
        policy_source: policy.source.clone(),
        policy_sha256: policy.sha256.clone(),
        fail_on,
    };
    let text = match args.format.as_str() {
        "json" => serde_json::to_string_pretty(&report::json::render(&data))? + "\n",
        "sarif" => serde_json::to_string_pretty(&report::sarif::build(&data))? + "\n",
        "markdown" => report::markdown::render(&data),
        "html" => report::html::render(&data),
        "junit" => report::junit::render(&data),
        "gitlab" => serde_json::to_string_pretty(&report::gitlab::render(&data))? + "\n",
        _ => report::text::render(&data),
    };
    match &args.output {
        Some(path) if path != "-" => {
            std::fs::write(path, text).with_context(|| format!("cannot write {path}"))?
        }
        _ => write_stdout(text.as_bytes())?,
    }
    let partial = data.partial_inputs();
    if partial > 0 && !args.allow_partial {
        // The report is written (it says which inputs are partial), but a green exit
        // would vouch for data the audit never saw.
        eprintln!(
            "keywarden audit: partial audit: {partial} input(s) could not be read to the end \
             (exit 2; --allow-partial accepts this)"
        );
        return Ok(2);
    }
    Ok(if data.exit_failing() > 0 { 1 } else { 0 })
}

/// Writes the report to standard output. A closed pipe (`| head`) is the reader's choice,
/// not an audit failure; any other write error (a full disk) is, because the report is lost.
fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("cannot write the report to standard output"),
    }
}
