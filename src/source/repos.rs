//! Many repositories: the list an organisation scan reads, its shards, and a plan that
//! balances shards by the size of each repository's object database.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// One line of a repository list: the path as written (what reports name) and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoEntry {
    /// The line as written in the list (or the clone's directory name when the list is a
    /// directory): what reports and the state file name the repository by.
    pub name: String,
    /// Where the clone is: relative lines resolved against the list's directory or its `# base:`.
    pub path: PathBuf,
}

/// Reads LIST: a file of repository paths (one per line; blank lines and `#` comments
/// skipped; relative paths resolved against the file's directory), or a directory whose
/// subdirectories are clones, bare or not. Sorted by name and deduplicated, so that shards
/// and merged reports do not depend on the order lines were written in.
pub fn read_list(list: &Path) -> Result<Vec<RepoEntry>> {
    let mut out = Vec::new();
    if list.is_dir() {
        let dir = std::fs::read_dir(list).with_context(|| format!("reading {}", list.display()))?;
        for e in dir {
            let e = e.with_context(|| format!("reading {}", list.display()))?;
            // Followed: an org directory is often a farm of links to clones kept elsewhere.
            if e.path().is_dir() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    continue;
                }
                out.push(RepoEntry {
                    name,
                    path: e.path(),
                });
            }
        }
    } else {
        let text =
            std::fs::read_to_string(list).with_context(|| format!("reading {}", list.display()))?;
        let mut base = list.parent().unwrap_or(Path::new(".")).to_path_buf();
        for line in text.lines() {
            let line = line.trim();
            // `repos plan` writes shard lists elsewhere; this keeps their relative lines, and
            // so the repositories' names, the same as in the list they were cut from.
            if let Some(dir) = line.strip_prefix(BASE_DIRECTIVE) {
                base = PathBuf::from(dir.trim());
                continue;
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let p = Path::new(line);
            out.push(RepoEntry {
                name: line.to_string(),
                path: if p.is_absolute() {
                    p.to_path_buf()
                } else {
                    base.join(p)
                },
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out.dedup_by(|a, b| a.name == b.name);
    Ok(out)
}

/// A list line setting the directory that later relative lines are resolved against.
pub const BASE_DIRECTIVE: &str = "# base:";

/// The directory a list's relative entries are resolved against, absolute.
pub fn list_base(list: &Path) -> PathBuf {
    let dir = if list.is_dir() {
        list
    } else {
        list.parent().unwrap_or(Path::new("."))
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// `I/N` with 1 ≤ I ≤ N.
pub fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| format!("expected I/N, got {s:?}"))?;
    let i: usize = i
        .trim()
        .parse()
        .map_err(|_| format!("bad shard index in {s:?}"))?;
    let n: usize = n
        .trim()
        .parse()
        .map_err(|_| format!("bad shard count in {s:?}"))?;
    if n == 0 || i == 0 || i > n {
        return Err(format!("shard {s:?}: need 1 <= I <= N"));
    }
    Ok((i, n))
}

/// Shard I of N: every Nth entry of the sorted list, starting at the Ith. The N shards are
/// disjoint and together are the whole list.
pub fn shard(entries: Vec<RepoEntry>, (i, n): (usize, usize)) -> Vec<RepoEntry> {
    entries
        .into_iter()
        .enumerate()
        .filter(|(k, _)| k % n == i - 1)
        .map(|(_, e)| e)
        .collect()
}

/// Bytes in a repository's object database (loose objects and packs): what a history scan
/// reads, so what its time follows. A path that is not a repository weighs 0.
pub fn weight(path: &Path) -> u64 {
    let objects = [path.join(".git/objects"), path.join("objects")]
        .into_iter()
        .find(|p| p.is_dir());
    let Some(objects) = objects else {
        return 0;
    };
    fn size(dir: &Path, depth: usize) -> u64 {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return 0;
        };
        rd.flatten()
            .map(|e| match e.file_type() {
                Ok(t) if t.is_dir() && depth < 2 => size(&e.path(), depth + 1),
                Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
                _ => 0,
            })
            .sum()
    }
    size(&objects, 0)
}

/// N lists of roughly equal total weight: heaviest repository first, each to the lightest
/// shard so far (longest-processing-time first). Within a shard, names stay sorted.
pub fn plan(entries: &[RepoEntry], weights: &[u64], shards: usize) -> Result<Vec<Vec<usize>>> {
    if shards == 0 {
        bail!("--shards must be at least 1");
    }
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| weights[b].cmp(&weights[a]).then(a.cmp(&b)));
    let mut load = vec![0u64; shards];
    let mut out = vec![Vec::new(); shards];
    for i in order {
        let (s, _) = (load.iter().enumerate())
            .min_by_key(|&(k, l)| (*l, k))
            .unwrap_or((0, &0));
        // A repository weighs at least one byte, so empty ones still spread out.
        load[s] += weights[i].max(1);
        out[s].push(i);
    }
    for s in &mut out {
        s.sort_unstable();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(n: usize) -> Vec<RepoEntry> {
        (0..n)
            .map(|i| RepoEntry {
                name: format!("r{i:03}"),
                path: PathBuf::from(format!("r{i:03}")),
            })
            .collect()
    }

    #[test]
    fn shards_partition_the_list() {
        let all = entries(10);
        let mut seen: Vec<String> = (1..=3)
            .flat_map(|i| shard(all.clone(), (i, 3)))
            .map(|e| e.name)
            .collect();
        seen.sort();
        assert_eq!(seen, all.iter().map(|e| e.name.clone()).collect::<Vec<_>>());
        assert_eq!(shard(all, (2, 3)).len(), 3);
        assert!(parse_shard("0/3").is_err());
        assert!(parse_shard("4/3").is_err());
        assert_eq!(parse_shard("2/3"), Ok((2, 3)));
    }

    #[test]
    fn plan_spreads_one_heavy_repository_apart_from_the_rest() {
        let all = entries(9);
        let weights = [100, 10, 10, 10, 10, 10, 10, 10, 10];
        let p = plan(&all, &weights, 2).unwrap();
        let load = |s: &Vec<usize>| s.iter().map(|&i| weights[i]).sum::<u64>();
        assert_eq!(p[0], vec![0], "the heavy one alone");
        assert_eq!(load(&p[1]), 80);
        assert_eq!(p.iter().map(Vec::len).sum::<usize>(), 9);
    }
}
