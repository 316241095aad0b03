//! Fuzzing entry points: one target per input format, plus the policy file. A target
//! fuzzes its own parser, through the same opening as files (gzip and UTF-16 included),
//! and hands what it read to the checks; what every input would otherwise repeat (the
//! default policy, whose classification rules are compiled regexes) is built once, when
//! the target is made, and never on the per-input path.

use std::path::{Path, PathBuf};

use super::input::{self, InputFormat, Role};
use super::{access, checks, findings, inventory, logs, policy};

/// The clock the checks see while fuzzing: fixed, so a crash replays.
const NOW: i64 = 1_700_000_000;

/// A fuzz target: its parser and the policy its checks use.
pub struct Target {
    name: &'static str,
    /// None for the policy-file target.
    format: Option<&'static InputFormat>,
    policy: policy::Policy,
}

/// Every target's name: `policy`, then every input format in the format table.
pub fn names() -> Vec<&'static str> {
    std::iter::once("policy")
        .chain(InputFormat::all().map(|f| f.name))
        .collect()
}

impl Target {
    /// The target of that name (see [`names`]); None for a name that is no target.
    pub fn new(name: &str) -> Option<Target> {
        let (name, format) = match name {
            "policy" => ("policy", None),
            other => {
                let f = InputFormat::from_name(other)?;
                (f.name, Some(f))
            }
        };
        let policy = policy::Policy::load(None).ok()?;
        Some(Target {
            name,
            format,
            policy,
        })
    }

    /// `policy` or the input format's name, as `KEYWARDEN_FUZZ_TARGET` names the target.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// One input: parsed, then (for inputs that hold records) audited. Never panics on
    /// any bytes; that is what the fuzzer checks.
    pub fn run(&self, data: &[u8]) {
        let Some(format) = self.format else {
            if let Ok(text) = std::str::from_utf8(data) {
                let _ = policy::Policy::load(Some(("fuzz", text)));
            }
            return;
        };
        let Ok(opened) = input::open_reader(Box::new(std::io::Cursor::new(data.to_vec()))) else {
            return;
        };
        let reader = opened.reader;
        let mut bad = Vec::new();
        let mut items = Vec::new();
        let mut stores = Vec::new();
        let mut activity = logs::Activity::new(
            logs::Window::new(NOW, &self.policy.patterns),
            self.policy.machine.clone(),
        );
        let mut leaks = Vec::new();
        let mut access = access::AccessData::default();
        let _ = match format.role() {
            Role::Inventory => {
                inventory::load(format, reader, "fuzz", &mut items, &mut stores, &mut bad)
            }
            Role::Log => logs::load(format, reader, "fuzz", &mut activity, &mut bad),
            Role::Findings => findings::load(format, reader, "fuzz", &mut leaks, &mut bad),
            Role::PolicyDoc => access::load(format, reader, "fuzz", &mut access, &mut bad),
        };
        access.finish();
        let _ = checks::run(
            items,
            &stores,
            &activity,
            &leaks,
            Some(&access),
            &self.policy,
            NOW,
        );
    }

    /// Whether a file is a seed for this target: a policy that loads, or an input that
    /// detection reads as this target's format.
    pub fn is_seed(&self, data: &[u8]) -> bool {
        let Some(format) = self.format else {
            return std::str::from_utf8(data)
                .is_ok_and(|t| policy::Policy::load(Some(("seed", t))).is_ok());
        };
        let Ok(opened) = input::open_reader(Box::new(std::io::Cursor::new(data.to_vec()))) else {
            return false;
        };
        input::detect(&opened.prefix, format.role()) == Some(format)
    }

    /// The files under `roots` (recursively, in path order) that are seeds for this target.
    pub fn seeds(&self, roots: &[&Path]) -> Vec<PathBuf> {
        let mut files = Vec::new();
        let mut stack: Vec<PathBuf> = roots.iter().map(|r| r.to_path_buf()).collect();
        while let Some(p) = stack.pop() {
            match std::fs::read_dir(&p) {
                Ok(entries) => stack.extend(entries.filter_map(|e| e.ok().map(|e| e.path()))),
                Err(_) => files.push(p),
            }
        }
        files.sort();
        files
            .into_iter()
            .filter(|f| std::fs::read(f).is_ok_and(|d| self.is_seed(&d)))
            .collect()
    }
}
