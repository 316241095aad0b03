//! The state of incremental organisation scans (`scan --repos LIST --state FILE`): per
//! repository, the ref tips already scanned and the findings found so far. The next run hides
//! those tips (only newer commits are read) and keeps the findings. It holds fingerprints and
//! redacted values, never a secret.

use crate::pipeline::finding::{Finding, redact};
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The state format's version.
const SCHEMA: &str = "keywarden/state/v2";
/// States written before `kw2:` fingerprints: their findings would not group with new ones, so
/// such a state is read as empty and every repository is scanned in full once.
const SCHEMA_KW1: &str = "keywarden/state/v1";

/// The state file: one entry per repository ever scanned with it.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    /// The format's version, `keywarden/state/v2`; `v1` is read as empty, another is refused.
    pub schema: String,
    /// Per repository, by its name in the list.
    pub repos: BTreeMap<String, RepoState>,
}

/// What earlier runs learnt about one repository.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct RepoState {
    /// Ref name → commit id, as of the last run that read the repository.
    pub tips: BTreeMap<String, String>,
    /// Every leak found in the repository so far, redacted; one no ref reaches any more is kept,
    /// marked unreachable.
    pub findings: Vec<Finding>,
    /// RFC 3339 time of that run.
    pub scanned_at: String,
}

impl State {
    /// An absent file is an empty state (the first run); anything else must parse.
    pub fn load(path: &Path) -> Result<State> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(State {
                    schema: SCHEMA.into(),
                    ..Default::default()
                });
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let state: State = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a keywarden state file", path.display()))?;
        if state.schema == SCHEMA_KW1 {
            eprintln!(
                "keywarden: {}: written before kw2: fingerprints; scanning every repository in full once",
                path.display()
            );
            return Ok(State {
                schema: SCHEMA.into(),
                ..Default::default()
            });
        }
        if state.schema != SCHEMA {
            bail!(
                "{}: state schema {:?}, expected {SCHEMA:?}",
                path.display(),
                state.schema
            );
        }
        Ok(state)
    }

    /// Written to a temporary file and renamed, so an interrupted run leaves the old state.
    pub fn save(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension("tmp");
        let mut text = serde_json::to_string(self)?;
        text.push('\n');
        std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }
}

/// A finding as the state keeps it: a value shown in full (`--show-secrets`) is redacted and
/// its line dropped.
pub fn kept(mut f: Finding, shown: bool) -> Finding {
    if shown {
        f.secret = redact(&f.secret);
        f.snippet.clear();
    }
    f
}
