//! `keywarden install-hook`: a git pre-commit hook that scans what is staged.

use anyhow::{Context, Result, anyhow, bail};
use std::path::{Path, PathBuf};

/// Marks hooks this module wrote, so they can be replaced without `force`.
const MARKER: &str = "# keywarden pre-commit hook";

fn script() -> String {
    format!(
        "#!/bin/sh\n{MARKER}: blocks commits that stage secrets.\n\
         # Bypass once with `git commit --no-verify`.\n\
         if ! command -v keywarden >/dev/null 2>&1; then\n\
         \techo 'keywarden: not on PATH; skipping the secret scan' >&2\n\
         \texit 0\n\
         fi\n\
         exec keywarden scan --staged\n"
    )
}

/// Writes the pre-commit hook for the repository holding `repo` (honouring `core.hooksPath`)
/// and returns its path. An existing hook that keywarden did not write is kept unless `force`.
pub fn install(repo: &Path, force: bool) -> Result<PathBuf> {
    let r = gix::discover(repo)
        .map_err(|e| anyhow!("{}: not a git repository ({e})", repo.display()))?;
    let hooks = hooks_dir(&r);
    std::fs::create_dir_all(&hooks).with_context(|| format!("creating {}", hooks.display()))?;
    let hook = hooks.join("pre-commit");
    if let Ok(existing) = std::fs::read_to_string(&hook) {
        if !existing.contains(MARKER) && !force {
            bail!(
                "{} exists and was not written by keywarden; use --force to replace it",
                hook.display()
            );
        }
    } else if hook.exists() && !force {
        bail!("{} exists; use --force to replace it", hook.display());
    }
    std::fs::write(&hook, script()).with_context(|| format!("writing {}", hook.display()))?;
    make_executable(&hook)?;
    Ok(hook)
}

/// `core.hooksPath` (relative to the work tree, as git reads it) or `$GIT_DIR/hooks`.
fn hooks_dir(repo: &gix::Repository) -> PathBuf {
    let configured = repo
        .config_snapshot()
        .trusted_path("core.hooksPath")
        .ok()
        .flatten();
    match configured {
        Some(p) if p.is_absolute() => p,
        Some(p) => repo.workdir().unwrap_or_else(|| repo.git_dir()).join(p),
        None => repo.common_dir().join("hooks"),
    }
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut perm = std::fs::metadata(path)?.permissions();
    perm.set_mode(0o755);
    std::fs::set_permissions(path, perm)?;
    Ok(())
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> Result<()> {
    Ok(())
}
