//! Pre-commit (`--staged`) and added-lines (`--diff REF`) scans: no history walk, only the
//! index, HEAD and the base tree.

use super::{GitScan, is_lfs_pointer, open, too_large, vcs_info};
use crate::pipeline::finding::{Finding, Provenance};
use crate::pipeline::{self, Scanner, Stats};
use anyhow::{Result, anyhow};
use gix::ObjectId;
use gix::bstr::{BString, ByteSlice};
use gix::objs::FindExt;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Above this many index entries to compare, one pass over HEAD's trees beats path lookups.
const LOOKUP_LIMIT: usize = 256;

/// A blob staged in the index.
struct Staged {
    path: BString,
    id: ObjectId,
}

pub(super) fn scan_staged(scanner: &Scanner, path: &Path) -> Result<GitScan> {
    let repo = open(path)?;
    let mut out = GitScan {
        vcs: Some(vcs_info(&repo)),
        ..Default::default()
    };
    let staged = staged_changes(&repo)?;
    out.extra.insert("staged_files".into(), staged.len() as u64);
    let mut buf = Vec::new();
    let mut lfs = 0u64;
    for s in &staged {
        let shown = s.path.to_str_lossy().into_owned();
        if scanner.allowlist.path_allowed(&shown) {
            Stats::add(&scanner.stats.skipped_allowlisted_path, 1);
            continue;
        }
        let Some(data) = read_blob(&repo, &s.id, &mut buf, scanner, &mut out) else {
            continue;
        };
        if is_lfs_pointer(data) {
            Stats::add(&scanner.stats.skipped_lfs, 1);
            lfs += 1;
            continue;
        }
        let prov = Provenance::GitBlob {
            path: shown,
            blob_id: s.id.to_string(),
        };
        out.findings.extend(scanner.scan_blob(data, &prov));
    }
    out.extra.insert("lfs_pointers".into(), lfs);
    // A staged edit of another line of a file that already holds a secret commits nothing new:
    // values HEAD's version of the same path holds are not this commit's to block.
    if let Ok(head) = repo.head_tree() {
        let before = out.findings.len();
        out.findings.retain(|f| !super::tree_holds(&head, f));
        out.extra.insert(
            "values_already_in_head".into(),
            (before - out.findings.len()) as u64,
        );
    }
    Ok(out)
}

/// Reads a blob after the size check; missing objects are counted, not fatal.
fn read_blob<'a>(
    repo: &gix::Repository,
    id: &ObjectId,
    buf: &'a mut Vec<u8>,
    scanner: &Scanner,
    out: &mut GitScan,
) -> Option<&'a [u8]> {
    use gix::objs::{Find, FindHeader};
    match repo.objects.try_header(id) {
        Ok(Some(h)) if too_large(scanner, h.size) => return None,
        Ok(Some(_)) => {}
        Ok(None) => {
            *out.extra.entry("missing_objects".into()).or_default() += 1;
            return None;
        }
        Err(e) => {
            scanner.stats.error(format!("blob {id}: {e}"));
            return None;
        }
    }
    match repo.objects.try_find(id, buf) {
        Ok(Some(d)) => Some(d.data),
        Ok(None) => {
            *out.extra.entry("missing_objects".into()).or_default() += 1;
            None
        }
        Err(e) => {
            scanner.stats.error(format!("blob {id}: {e}"));
            None
        }
    }
}

/// Regular files in the index (stage 0) whose blob differs from HEAD's at the same path;
/// everything when there is no commit yet.
fn staged_changes(repo: &gix::Repository) -> Result<Vec<Staged>> {
    use gix::index::entry::Mode;
    let index = repo
        .index_or_empty()
        .map_err(|e| anyhow!("reading the index: {e}"))?;
    let head_tree = repo.head_tree_id().ok().map(|id| id.detach());
    // Directories whose cached tree id equals HEAD's are unchanged as a whole.
    let mut same: Vec<BString> = Vec::new();
    if let (Some(cache), Some(head)) = (index.tree(), head_tree) {
        unchanged_dirs(repo, cache, BString::default(), Some(head), &mut same);
    }
    let mut candidates = Vec::new();
    for e in index.entries() {
        if e.stage_raw() != 0 || !(e.mode == Mode::FILE || e.mode == Mode::FILE_EXECUTABLE) {
            continue;
        }
        let path = e.path(&index);
        if same.iter().any(|d| path.starts_with(d.as_slice())) {
            continue;
        }
        candidates.push(Staged {
            path: path.to_owned(),
            id: e.id,
        });
    }
    let Some(head) = head_tree else {
        return Ok(candidates);
    };
    if candidates.len() > LOOKUP_LIMIT {
        let head_index = repo
            .index_from_tree(&head)
            .map_err(|e| anyhow!("reading HEAD's tree: {e}"))?;
        candidates.retain(|c| {
            head_index
                .entry_by_path(c.path.as_bstr())
                .is_none_or(|h| h.id != c.id)
        });
        return Ok(candidates);
    }
    let tree = repo
        .find_tree(head)
        .map_err(|e| anyhow!("reading HEAD's tree: {e}"))?;
    candidates.retain(|c| match tree.lookup_entry(c.path.split(|b| *b == b'/')) {
        Ok(Some(entry)) => entry.object_id() != c.id,
        _ => true,
    });
    Ok(candidates)
}

/// Collects `prefix/` for each valid cache-tree node whose id matches HEAD's tree there.
fn unchanged_dirs(
    repo: &gix::Repository,
    node: &gix::index::extension::Tree,
    prefix: BString,
    head: Option<ObjectId>,
    out: &mut Vec<BString>,
) {
    let Some(head) = head else { return };
    if node.num_entries.is_some() && node.id == head {
        out.push(prefix);
        return;
    }
    let mut buf = Vec::new();
    let Ok(tree) = repo.objects.find_tree(&head, &mut buf) else {
        return;
    };
    let sub: Vec<(BString, ObjectId)> = tree
        .entries
        .iter()
        .filter(|e| e.mode.is_tree())
        .map(|e| (e.filename.to_owned(), e.oid.to_owned()))
        .collect();
    for child in &node.children {
        let name = child.name.as_slice();
        let id = sub
            .iter()
            .find(|(n, _)| n.as_slice() == name)
            .map(|(_, id)| *id);
        let mut p = prefix.clone();
        p.extend_from_slice(name);
        p.push(b'/');
        unchanged_dirs(repo, child, p, id, out);
    }
}

/// Lines added since `base`: base's tree against HEAD's, plus what is staged, with each changed
/// file read from the working tree when there is one (what a pre-push or CI user sees) and
/// from HEAD or the index otherwise. Each file is scanned whole, but only findings on added
/// lines are reported.
pub(super) fn scan_diff(scanner: &Scanner, path: &Path, base: &str) -> Result<GitScan> {
    let repo = open(path)?;
    let mut out = GitScan {
        vcs: Some(vcs_info(&repo)),
        ..Default::default()
    };
    let base_tree = repo
        .rev_parse_single(base)
        .map_err(|e| super::unresolved(&repo, base, e))?
        .object()
        .map_err(|e| super::unresolved(&repo, base, e))?
        .peel_to_tree()
        .map_err(|e| anyhow!("{base:?} has no tree: {e}"))?;
    // Path to the new blob (None: only the working tree has it).
    let mut changed: BTreeMap<BString, ObjectId> = BTreeMap::new();
    if let Ok(head) = repo.head_tree_id() {
        let head = head.detach();
        if head != base_tree.id {
            let mut rec = gix::diff::tree::Recorder::default();
            let mut lbuf = Vec::new();
            let mut rbuf = Vec::new();
            let lhs = repo
                .objects
                .find_tree_iter(&base_tree.id, &mut lbuf)
                .map_err(|e| anyhow!("reading {base:?}: {e}"))?;
            let rhs = repo
                .objects
                .find_tree_iter(&head, &mut rbuf)
                .map_err(|e| anyhow!("reading HEAD: {e}"))?;
            gix::diff::tree(
                lhs,
                rhs,
                gix::diff::tree::State::default(),
                &repo.objects,
                &mut rec,
            )
            .map_err(|e| anyhow!("diffing {base:?} against HEAD: {e}"))?;
            for c in rec.records {
                use gix::diff::tree::recorder::Change;
                match c {
                    Change::Addition {
                        entry_mode,
                        oid,
                        path,
                        ..
                    }
                    | Change::Modification {
                        entry_mode,
                        oid,
                        path,
                        ..
                    } if entry_mode.is_blob() => {
                        changed.insert(path, oid);
                    }
                    _ => {}
                }
            }
        }
    }
    for s in staged_changes(&repo)? {
        changed.insert(s.path, s.id);
    }
    out.extra
        .insert("changed_files".into(), changed.len() as u64);

    let workdir = repo.workdir().map(Path::to_path_buf);
    let mut buf = Vec::new();
    let mut old_buf = Vec::new();
    let mut findings: Vec<Finding> = Vec::new();
    for (rel, id) in &changed {
        let shown = rel.to_str_lossy().into_owned();
        if scanner.allowlist.path_allowed(&shown) {
            Stats::add(&scanner.stats.skipped_allowlisted_path, 1);
            continue;
        }
        let from_disk = workdir.as_ref().and_then(|w| {
            let p = w.join(gix::path::from_bstr(rel.as_bstr()).ok()?);
            let meta = std::fs::symlink_metadata(&p).ok()?;
            if !meta.is_file() {
                return None;
            }
            if too_large(scanner, meta.len()) {
                return Some(None);
            }
            Some(std::fs::read(&p).ok())
        });
        let new: Vec<u8> = match from_disk {
            Some(Some(data)) => data,
            Some(None) => continue,
            None => match read_blob(&repo, id, &mut buf, scanner, &mut out) {
                Some(d) => d.to_vec(),
                None => continue,
            },
        };
        if is_lfs_pointer(&new) {
            Stats::add(&scanner.stats.skipped_lfs, 1);
            continue;
        }
        let old: &[u8] = match base_tree.lookup_entry(rel.split(|b| *b == b'/')) {
            Ok(Some(e)) if e.mode().is_blob() => {
                let oid = e.object_id();
                read_blob(&repo, &oid, &mut old_buf, scanner, &mut out).unwrap_or(&[])
            }
            _ => &[],
        };
        // Lines are compared as the pipeline numbers them: UTF-16/UTF-32 text decoded
        // (`scan_blob` decodes the new version again; only wide text in a diff pays that).
        let added = added_lines(&pipeline::as_text(old), &pipeline::as_text(&new));
        if added.is_empty() {
            continue;
        }
        let prov = Provenance::AddedLines {
            path: shown,
            lines: Arc::new(added),
        };
        findings.extend(scanner.scan_blob(&new, &prov));
    }
    out.findings = findings;
    Ok(out)
}

/// 1-based numbers of the lines of `new` that are not in `old`, sorted.
pub(crate) fn added_lines(old: &[u8], new: &[u8]) -> Vec<usize> {
    use gix_imara_diff::{Algorithm, Diff, InternedInput};
    if old.is_empty() {
        let n = new.lines_with_terminator().count();
        return (1..=n).collect();
    }
    let input = InternedInput::new(old, new);
    let diff = Diff::compute(Algorithm::Histogram, &input);
    (0..input.after.len() as u32)
        .filter(|&i| diff.is_added(i))
        .map(|i| i as usize + 1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::added_lines;

    #[test]
    fn added_lines_are_numbered_in_the_new_file() {
        assert_eq!(added_lines(b"a\nb\nc\n", b"a\nx\nb\nc\ny\n"), vec![2, 5]);
        assert_eq!(added_lines(b"", b"a\nb"), vec![1, 2]);
        assert!(added_lines(b"a\n", b"a\n").is_empty());
    }
}
