//! Where reported paths start from. Every finding's path is relative to one base: the root of
//! the git work tree holding the first scanned path (the repository itself for a bare
//! repository), else the current directory. Tree, staged, diff and history scans of the same
//! repository therefore name a file the same way, and two scanned directories keep their names
//! (`prod/app.env`, `staging/app.env`). A file outside the base is shown by its absolute path.

use std::path::{Component, Path, PathBuf};

/// The work tree (or bare repository) holding `start`, canonical.
pub fn repo_root(start: &Path) -> Option<PathBuf> {
    crate::config::nearest_dir(start, |d| {
        d.join(".git").exists()
            || (d.join("HEAD").is_file() && d.join("objects").is_dir() && d.join("refs").is_dir())
    })
}

/// The base for a scan whose first path is `first`.
pub fn base_for(first: &Path) -> PathBuf {
    repo_root(first).unwrap_or_else(|| {
        std::env::current_dir()
            .and_then(std::fs::canonicalize)
            .unwrap_or_else(|_| PathBuf::from("."))
    })
}

/// `p` made absolute against the current directory, with `.` and `..` resolved lexically, and
/// its directory part canonical (symlinked parents resolved) when it exists. The last component
/// is kept as named, so a symbolic link given as a path is shown by its own name.
pub fn absolute(p: &Path) -> PathBuf {
    if let Ok(c) = std::fs::canonicalize(p)
        && c.is_dir()
    {
        return c;
    }
    let joined = std::env::current_dir().unwrap_or_default().join(p);
    let norm = lexical(&joined);
    match (norm.parent(), norm.file_name()) {
        (Some(parent), Some(name)) => std::fs::canonicalize(parent)
            .map(|d| d.join(name))
            .unwrap_or(norm),
        _ => norm,
    }
}

fn lexical(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Shows paths found under one scanned root, relative to the base.
pub struct Shown {
    given: PathBuf,
    abs: PathBuf,
    base: PathBuf,
}

impl Shown {
    /// Paths found under `root` (as given on the command line), shown relative to `base`.
    pub fn new(base: &Path, root: &Path) -> Shown {
        Shown {
            given: root.to_path_buf(),
            abs: absolute(root),
            base: base.to_path_buf(),
        }
    }

    /// `p`, a path the walk of this root produced, as reported: relative to the base with `/`
    /// separators, or absolute when outside it.
    pub fn show(&self, p: &Path) -> String {
        let abs = match p.strip_prefix(&self.given) {
            Ok(rel) if rel.as_os_str().is_empty() => self.abs.clone(),
            Ok(rel) => self.abs.join(rel),
            Err(_) => absolute(p),
        };
        relative_to(&self.base, &abs)
    }
}

/// `abs` relative to `base` with `/` separators, or `abs` itself when outside `base`.
pub fn relative_to(base: &Path, abs: &Path) -> String {
    match abs.strip_prefix(base) {
        Ok(rel) if !rel.as_os_str().is_empty() => slashes(rel),
        _ => slashes(abs),
    }
}

fn slashes(p: &Path) -> String {
    let s = p.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        s.into_owned()
    } else {
        s.replace(std::path::MAIN_SEPARATOR, "/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_relative_to_the_base_and_keep_their_directory() {
        let base = Path::new("/w");
        assert_eq!(
            relative_to(base, Path::new("/w/prod/app.env")),
            "prod/app.env"
        );
        assert_eq!(relative_to(base, Path::new("/elsewhere/a")), "/elsewhere/a");
        assert_eq!(lexical(Path::new("/w/a/../b/./c")), PathBuf::from("/w/b/c"));
    }
}
