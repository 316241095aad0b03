//! `keywarden install-hook`: a git pre-commit hook that scans what is staged.

use anyhow::{Context, Result, anyhow, bail};
use std::path::{Path, PathBuf};

/// Marks hooks this module wrote, so they can be replaced without `force`.
const MARKER: &str = "# keywarden pre-commit hook";

/// The hook fails closed: a commit is blocked when keywarden cannot run (not on the PATH a
/// GUI client or another shell gives hooks, or crashed), since a gate that passes when its
/// scanner is missing is no gate. The binary that installed the hook is tried when keywarden
/// is not on PATH.
fn script(installed_by: Option<&Path>) -> String {
    let fallback = installed_by
        .map(|p| shell_quote(&p.to_string_lossy()))
        .unwrap_or_else(|| "''".into());
    format!(
        "#!/bin/sh\n{MARKER}: blocks commits that stage secrets.\n\
         # Bypass once, on purpose, with `git commit --no-verify`.\n\
         kw=keywarden\n\
         if ! command -v \"$kw\" >/dev/null 2>&1; then\n\
         \tkw={fallback}\n\
         \tif [ -z \"$kw\" ] || [ ! -x \"$kw\" ]; then\n\
         \t\techo 'keywarden: not found on PATH; commit blocked because staged files could not be scanned.' >&2\n\
         \t\techo 'keywarden: install keywarden or put it on PATH, or bypass once with: git commit --no-verify' >&2\n\
         \t\texit 1\n\
         \tfi\n\
         fi\n\
         \"$kw\" scan --staged\n\
         status=$?\n\
         if [ \"$status\" -ge 2 ]; then\n\
         \techo \"keywarden: the secret scan did not complete (exit $status); commit blocked. Bypass once with: git commit --no-verify\" >&2\n\
         fi\n\
         exit $status\n"
    )
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
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
    // Only a keywarden binary is a fallback (a test harness or another host program is not).
    let me = std::env::current_exe()
        .ok()
        .filter(|p| p.file_stem().is_some_and(|s| s == "keywarden"));
    std::fs::write(&hook, script(me.as_deref()))
        .with_context(|| format!("writing {}", hook.display()))?;
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
