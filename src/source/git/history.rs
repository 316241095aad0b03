//! History scans in three passes: refs to commits in topological order (oldest first); tree
//! diffs giving the (path, blob) pairs each commit introduces, attributed to the earliest
//! commit, and the (path, blob) versions each commit changes from its first parent; then each
//! distinct blob decoded and scanned once on every core. Its findings are then grouped into
//! leaks, one per value and path (`leaks`). Only ids, interned paths and per-commit version
//! changes are held for the whole history; blob contents stream through the workers.

use super::leaks::{self, Version};
use super::{GitOptions, GitScan, commit_info, is_lfs_pointer, open, too_large, vcs_info};
use crate::pipeline::finding::{CommitInfo, Finding, Provenance};
use crate::pipeline::{Scanner, Stats};
use anyhow::{Result, anyhow, bail};
use gix::ObjectId;
use gix::bstr::{BStr, BString, ByteSlice, ByteVec};
use gix::diff::tree::{Visit, visit};
use gix::hashtable::{HashMap, HashSet};
use gix::objs::tree::EntryKind;
use gix::objs::{Find, FindExt, FindHeader};
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Occurrence without a commit (a tag pointing straight at a blob or tree).
const NO_COMMIT: u32 = leaks::NONE;
/// Commits diffed per batch: bounds the changes held before they are folded into the index.
const BATCH: usize = 512;
/// Delta-base cache per worker thread.
const PACK_CACHE_BYTES: usize = 16 << 20;
/// Consecutive commits one diff worker takes at a time.
const DIFF_RUN: usize = 64;

pub(super) struct Node {
    pub(super) id: ObjectId,
    tree: ObjectId,
    pub(super) parents: Vec<ObjectId>,
    time: i64,
    /// False for a tree reached straight from a tag.
    pub(super) is_commit: bool,
}

struct Parsed {
    tree: ObjectId,
    parents: Vec<ObjectId>,
    time: i64,
}

#[derive(Default)]
struct Counts {
    missing: AtomicU64,
    submodules: AtomicU64,
    lfs: AtomicU64,
}

/// An entry of a commit's tree that differs from its first parent's.
struct Change {
    path: BString,
    id: ObjectId,
    kind: EntryKind,
    /// The path is gone from this commit's tree.
    deleted: bool,
    /// No parent has this (path, blob) pair: the commit introduced it.
    introduced: bool,
}

#[derive(Clone, Copy)]
pub(super) struct Occ {
    pub(super) path: u32,
    pub(super) node: u32,
}

pub(super) struct BlobEntry {
    pub(super) id: ObjectId,
    pub(super) occs: Vec<Occ>,
}

/// (blob, path) pairs in attribution order, with interned paths.
#[derive(Default)]
struct Index {
    paths: Vec<BString>,
    path_ids: std::collections::HashMap<BString, u32>,
    /// Per interned path: excluded by the global path allowlist.
    path_skipped: Vec<bool>,
    blobs: Vec<BlobEntry>,
    blob_ids: HashMap<ObjectId, u32>,
    seen: std::collections::HashSet<(u32, u32)>,
    submodule_paths: std::collections::BTreeSet<BString>,
    occurrences: u64,
    /// Per commit in topological order, the paths whose version differs from the first
    /// parent's, and the blob each now holds: what `leaks` follows a value through.
    versions: Vec<Version>,
}

impl Index {
    fn add(&mut self, scanner: &Scanner, path: &BStr, id: ObjectId, node: u32) {
        let p = match self.path_ids.get(path) {
            Some(&p) => p,
            None => {
                let p = self.paths.len() as u32;
                self.paths.push(path.to_owned());
                self.path_ids.insert(path.to_owned(), p);
                self.path_skipped
                    .push(scanner.allowlist.path_allowed(&path.to_str_lossy()));
                p
            }
        };
        let b = match self.blob_ids.get(&id) {
            Some(&b) => b,
            None => {
                let b = self.blobs.len() as u32;
                self.blobs.push(BlobEntry {
                    id,
                    occs: Vec::new(),
                });
                self.blob_ids.insert(id, b);
                b
            }
        };
        // The first commit in topological order to introduce the pair keeps it.
        if !self.seen.insert((b, p)) {
            return;
        }
        if self.path_skipped[p as usize] {
            Stats::add(&scanner.stats.skipped_allowlisted_path, 1);
            return;
        }
        self.occurrences += 1;
        self.blobs[b as usize].occs.push(Occ { path: p, node });
    }

    /// Records that `node`'s version of the path differs from its first parent's. Only paths
    /// and blobs the scan indexed can hold findings, so the others are not kept.
    fn record_version(&mut self, c: &Change, node: u32) {
        let Some(&path) = self.path_ids.get(&c.path) else {
            return;
        };
        if self.path_skipped[path as usize] {
            return;
        }
        let holds_blob =
            !c.deleted && matches!(c.kind, EntryKind::Blob | EntryKind::BlobExecutable);
        let blob = if holds_blob {
            self.blob_ids.get(&c.id).copied().unwrap_or(leaks::NONE)
        } else {
            leaks::NONE
        };
        self.versions.push(Version { node, path, blob });
    }
}

pub(super) fn scan(
    scanner: &Scanner,
    opts: &GitOptions,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<GitScan> {
    let repo = open(&opts.repo)?;
    let threads = opts.threads.max(1);
    let mut out = GitScan {
        vcs: Some(vcs_info(&repo)),
        ..Default::default()
    };
    let counts = Counts::default();
    let shallow: HashSet<ObjectId> = match repo.shallow_commits() {
        Ok(Some(c)) => c.iter().copied().collect(),
        _ => HashSet::default(),
    };
    if !shallow.is_empty() {
        let mut ids: Vec<String> = shallow
            .iter()
            .map(|id| id.to_hex_with_len(12).to_string())
            .collect();
        ids.sort();
        let more = if ids.len() > 5 {
            format!(" and {} more", ids.len() - 5)
        } else {
            String::new()
        };
        ids.truncate(5);
        out.notes.push(format!(
            "shallow clone: history before {}{more} is absent; scanned what is present",
            ids.join(", ")
        ));
    }

    let timings = std::env::var_os("KEYWARDEN_TIMINGS").is_some();
    let started = std::time::Instant::now();
    let phase = |name: &str| {
        if timings {
            eprintln!("{name}: {:.2}s", started.elapsed().as_secs_f64());
        }
    };
    let mut tips = select_tips(&repo, opts, scanner)?;
    for spec in &opts.exclude {
        // A commit of an earlier run that is gone from the object database hides nothing.
        if let Ok(id) = ObjectId::from_hex(spec.as_bytes())
            && repo.find_header(id).is_ok()
        {
            tips.hidden.push(id);
        }
    }
    let (nodes, reached) = walk(&repo, &tips, opts.max_commits, &shallow, &counts)?;
    let mut named: Vec<(String, String)> = (tips.named.iter())
        .map(|(n, id)| (n.clone(), id.to_string()))
        .collect();
    named.sort();
    out.tips = named;
    out.exclude_reached = reached.iter().map(ObjectId::to_string).collect();
    out.exclude_reached.sort();
    phase("walk");
    let mut index = Index::default();
    for (id, name) in &tips.blobs {
        index.add(scanner, name.as_bstr(), *id, NO_COMMIT);
    }
    diff_all(
        &repo, &nodes, &shallow, threads, scanner, &counts, &mut index,
    );

    phase("tree diffs");
    let commits = nodes.iter().filter(|n| n.is_commit).count();
    out.extra.insert("commits".into(), commits as u64);
    out.extra.insert("refs".into(), tips.refs);
    out.extra
        .insert("blob_occurrences".into(), index.occurrences);
    if !index.submodule_paths.is_empty() {
        let mut shown: Vec<String> = index
            .submodule_paths
            .iter()
            .take(10)
            .map(|p| p.to_str_lossy().into_owned())
            .collect();
        if index.submodule_paths.len() > 10 {
            shown.push(format!("{} more", index.submodule_paths.len() - 10));
        }
        out.notes
            .push(format!("submodules are not followed: {}", shown.join(", ")));
    }
    Stats::add(&counts.submodules, index.submodule_paths.len() as u64);

    let Index {
        paths,
        blobs,
        blob_ids,
        versions,
        ..
    } = index;
    let scanned = blobs.iter().filter(|b| !b.occs.is_empty()).count();
    out.extra.insert("blobs".into(), scanned as u64);
    let results = scan_blobs(&repo, &blobs, &paths, threads, scanner, &counts, progress);
    phase("blobs");
    let head = repo.head_id().ok().map(|id| id.detach());
    let head_blob = |path: u32| -> Option<u32> {
        let tree = repo.find_commit(head?).ok()?.tree().ok()?;
        let p = paths[path as usize].to_str_lossy();
        let entry = tree.lookup_entry(p.split('/').map(str::as_bytes)).ok()??;
        blob_ids.get(&entry.object_id()).copied()
    };
    let read_blob = |blob: u32| -> Option<Vec<u8>> {
        let id = blobs.get(blob as usize)?.id;
        let header = repo.objects.try_header(&id).ok()??;
        if header.size > scanner.opts.max_file_size {
            return None;
        }
        let mut buf = Vec::new();
        let data = repo.objects.try_find(&id, &mut buf).ok()??;
        Some(crate::pipeline::as_text(data.data).into_owned())
    };
    let history = leaks::History {
        nodes: &nodes,
        versions: &versions,
        blobs: &blobs,
        paths: &paths,
        head,
        head_blob: &head_blob,
        read_blob: &read_blob,
        tips: &tips.named,
    };
    let commit_of = |node: &Node| -> Option<Arc<CommitInfo>> {
        let mut buf = Vec::new();
        let data = repo.objects.try_find(&node.id, &mut buf).ok()??;
        Some(Arc::new(commit_info(
            node.id,
            data.data,
            repo.object_hash(),
        )))
    };
    out.findings = leaks::group(&history, results, scanner, &commit_of);
    phase("leaks");

    out.extra.insert(
        "missing_objects".into(),
        counts.missing.load(Ordering::Relaxed),
    );
    out.extra.insert(
        "submodules".into(),
        counts.submodules.load(Ordering::Relaxed),
    );
    out.extra
        .insert("lfs_pointers".into(), counts.lfs.load(Ordering::Relaxed));
    let missing = counts.missing.load(Ordering::Relaxed);
    if missing > 0 {
        out.notes.push(format!(
            "{missing} objects are missing from the object database; their content was not scanned"
        ));
    }
    Ok(out)
}

#[derive(Default)]
struct Tips {
    commits: Vec<ObjectId>,
    /// Trees reached straight from a ref, with the ref's name.
    trees: Vec<(ObjectId, String)>,
    blobs: Vec<(ObjectId, BString)>,
    hidden: Vec<ObjectId>,
    refs: u64,
    /// Each ref's name and the commit or tree it points at: which refs reach a leak.
    named: Vec<(String, ObjectId)>,
}

impl Tips {
    fn push(&mut self, repo: &gix::Repository, id: ObjectId, name: &str) {
        self.named.push((name.to_string(), id));
        match repo.find_header(id).map(|h| h.kind()) {
            Ok(gix::objs::Kind::Commit) => self.commits.push(id),
            Ok(gix::objs::Kind::Tree) => self.trees.push((id, name.to_string())),
            Ok(gix::objs::Kind::Blob) => self.blobs.push((id, name.into())),
            // Tags are peeled already; a missing tip is found missing by the walk.
            _ => self.commits.push(id),
        }
    }
}

fn resolve(repo: &gix::Repository, spec: &str) -> Result<ObjectId> {
    let id = repo
        .rev_parse_single(spec)
        .map_err(|e| super::unresolved(repo, spec, e))?;
    let obj = id.object().map_err(|e| super::unresolved(repo, spec, e))?;
    Ok(obj
        .peel_tags_to_end()
        .map_err(|e| anyhow!("cannot peel {spec:?}: {e}"))?
        .id)
}

fn select_tips(repo: &gix::Repository, opts: &GitOptions, scanner: &Scanner) -> Result<Tips> {
    let mut tips = Tips::default();
    if let Some(range) = &opts.range {
        let Some((a, b)) = range.split_once("..") else {
            bail!("--range expects A..B, got {range:?}");
        };
        let b = b.trim_start_matches('.');
        let (a, b) = (
            if a.is_empty() { "HEAD" } else { a },
            if b.is_empty() { "HEAD" } else { b },
        );
        tips.hidden.push(resolve(repo, a)?);
        let id = resolve(repo, b)?;
        tips.push(repo, id, b);
        tips.refs = 1;
    } else if !opts.branches.is_empty() {
        for name in &opts.branches {
            let id =
                resolve(repo, &format!("refs/heads/{name}")).or_else(|_| resolve(repo, name))?;
            tips.push(repo, id, name);
            tips.refs += 1;
        }
    } else if opts.since_ref.is_some() {
        // What a push or pull request adds: HEAD's commits the base does not have.
        if let Ok(id) = repo.head_id() {
            tips.push(repo, id.detach(), "HEAD");
            tips.refs = 1;
        }
    } else {
        all_refs(repo, scanner, &mut tips)?;
    }
    if let Some(since) = &opts.since_ref {
        tips.hidden.push(resolve(repo, since)?);
    }
    Ok(tips)
}

/// Every ref (branches, tags peeled, remotes, notes, stash and its reflog) plus HEAD.
fn all_refs(repo: &gix::Repository, scanner: &Scanner, tips: &mut Tips) -> Result<()> {
    let platform = repo
        .references()
        .map_err(|e| anyhow!("reading refs: {e}"))?;
    let iter = platform.all().map_err(|e| anyhow!("reading refs: {e}"))?;
    for r in iter {
        let mut r = match r {
            Ok(r) => r,
            Err(e) => {
                scanner.stats.error(format!("reading a ref: {e}"));
                continue;
            }
        };
        let name = r.name().as_bstr().to_str_lossy().into_owned();
        match r.peel_to_id() {
            Ok(id) => {
                tips.push(repo, id.detach(), &name);
                tips.refs += 1;
            }
            Err(e) => scanner.stats.error(format!("{name}: {e}")),
        }
    }
    if let Ok(id) = repo.head_id() {
        tips.commits.push(id.detach());
    }
    // Older stash entries live only in the stash's reflog.
    if let Ok(Some(stash)) = repo.try_find_reference("refs/stash") {
        let mut log = stash.log_iter();
        if let Ok(Some(lines)) = log.all() {
            for line in lines.flatten() {
                if let Ok(id) = ObjectId::from_hex(line.new_oid) {
                    tips.commits.push(id);
                }
            }
        }
    }
    Ok(())
}

fn read_commit(
    objects: &impl Find,
    id: &ObjectId,
    buf: &mut Vec<u8>,
    kind: gix::hash::Kind,
) -> Option<Parsed> {
    let data = objects.try_find(id, buf).ok()??;
    if data.kind != gix::objs::Kind::Commit {
        return None;
    }
    let c = gix::objs::CommitRef::from_bytes(data.data, kind).ok()?;
    let time = c.committer().map(|s| s.seconds()).unwrap_or(0);
    Some(Parsed {
        tree: c.tree(),
        parents: c.parents().collect(),
        time,
    })
}

/// Commits reachable from the tips and not from the hidden tips, newest first up to the
/// limit, returned in topological order with parents before children (ties: older first),
/// and the hidden tips the walk met (as a tip or a parent).
fn walk(
    repo: &gix::Repository,
    tips: &Tips,
    max_commits: Option<usize>,
    shallow: &HashSet<ObjectId>,
    counts: &Counts,
) -> Result<(Vec<Node>, HashSet<ObjectId>)> {
    let hidden_tips: HashSet<ObjectId> = tips.hidden.iter().copied().collect();
    let mut reached: HashSet<ObjectId> = HashSet::default();
    let kind = repo.object_hash();
    let objects = &repo.objects;
    let mut buf = Vec::new();
    let mut hidden: HashSet<ObjectId> = HashSet::default();
    let mut stack: Vec<ObjectId> = tips.hidden.clone();
    while let Some(id) = stack.pop() {
        if !hidden.insert(id) {
            continue;
        }
        if shallow.contains(&id) {
            continue;
        }
        if let Some(p) = read_commit(objects, &id, &mut buf, kind) {
            stack.extend(p.parents.into_iter().filter(|p| !hidden.contains(p)));
        }
    }

    let limit = max_commits.unwrap_or(usize::MAX);
    let mut heap: BinaryHeap<(i64, ObjectId)> = BinaryHeap::new();
    let mut pending: HashMap<ObjectId, Parsed> = HashMap::default();
    let mut seen: HashSet<ObjectId> = HashSet::default();
    let mut nodes = Vec::new();
    // Reads a commit once and queues it by time; a missing one is counted.
    let mut enqueue = |id: ObjectId,
                       heap: &mut BinaryHeap<(i64, ObjectId)>,
                       pending: &mut HashMap<ObjectId, Parsed>| {
        if hidden.contains(&id) {
            if hidden_tips.contains(&id) {
                reached.insert(id);
            }
            return;
        }
        if !seen.insert(id) {
            return;
        }
        match read_commit(objects, &id, &mut buf, kind) {
            Some(p) => {
                heap.push((p.time, id));
                pending.insert(id, p);
            }
            None => {
                counts.missing.fetch_add(1, Ordering::Relaxed);
            }
        }
    };
    for &id in &tips.commits {
        enqueue(id, &mut heap, &mut pending);
    }
    while let Some((_, id)) = heap.pop() {
        if nodes.len() >= limit {
            break;
        }
        let Some(mut p) = pending.remove(&id) else {
            continue;
        };
        if shallow.contains(&id) {
            p.parents.clear();
        }
        for &parent in &p.parents {
            enqueue(parent, &mut heap, &mut pending);
        }
        nodes.push(Node {
            id,
            tree: p.tree,
            parents: p.parents,
            time: p.time,
            is_commit: true,
        });
    }
    for (tree, _) in &tips.trees {
        nodes.push(Node {
            id: *tree,
            tree: *tree,
            parents: Vec::new(),
            time: i64::MIN,
            is_commit: false,
        });
    }
    Ok((topo_order(nodes), reached))
}

/// Kahn's algorithm over the selected commits; ready commits leave oldest first.
fn topo_order(nodes: Vec<Node>) -> Vec<Node> {
    let pos: HashMap<ObjectId, usize> = nodes.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
    let mut indegree = vec![0u32; nodes.len()];
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        for p in &n.parents {
            if let Some(&pi) = pos.get(p)
                && pi != i
            {
                indegree[i] += 1;
                children[pi].push(i);
            }
        }
    }
    let mut ready: BinaryHeap<std::cmp::Reverse<(i64, usize)>> = indegree
        .iter()
        .enumerate()
        .filter(|(_, d)| **d == 0)
        .map(|(i, _)| std::cmp::Reverse((nodes[i].time, i)))
        .collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(std::cmp::Reverse((_, i))) = ready.pop() {
        order.push(i);
        for &c in &children[i] {
            indegree[c] -= 1;
            if indegree[c] == 0 {
                ready.push(std::cmp::Reverse((nodes[c].time, c)));
            }
        }
    }
    let mut slots: Vec<Option<Node>> = nodes.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// Records the non-tree entries a tree diff adds or changes, with full paths.
#[derive(Default)]
struct Collect {
    path: BString,
    queue: VecDeque<BString>,
    out: Vec<Change>,
}

impl Collect {
    fn push_element(&mut self, name: &BStr) {
        if name.is_empty() {
            return;
        }
        if !self.path.is_empty() {
            self.path.push(b'/');
        }
        self.path.push_str(name);
    }
}

impl Visit for Collect {
    fn pop_front_tracked_path_and_set_current(&mut self) {
        self.path = self.queue.pop_front().unwrap_or_default();
    }

    fn push_back_tracked_path_component(&mut self, component: &BStr) {
        self.push_element(component);
        self.queue.push_back(self.path.clone());
    }

    fn push_path_component(&mut self, component: &BStr) {
        self.push_element(component);
    }

    fn pop_path_component(&mut self) {
        match self.path.rfind_byte(b'/') {
            Some(pos) => self.path.truncate(pos),
            None => self.path.clear(),
        }
    }

    fn visit(&mut self, change: visit::Change) -> visit::Action {
        match change {
            visit::Change::Addition {
                entry_mode, oid, ..
            }
            | visit::Change::Modification {
                entry_mode, oid, ..
            } => {
                let kind = entry_mode.kind();
                if kind != EntryKind::Tree {
                    self.out.push(Change {
                        path: self.path.clone(),
                        id: oid,
                        kind,
                        deleted: false,
                        introduced: true,
                    });
                }
            }
            // A deleted tree's entries are visited one by one.
            visit::Change::Deletion {
                entry_mode, oid, ..
            } => {
                let kind = entry_mode.kind();
                if kind != EntryKind::Tree {
                    self.out.push(Change {
                        path: self.path.clone(),
                        id: oid,
                        kind,
                        deleted: true,
                        introduced: false,
                    });
                }
            }
        }
        std::ops::ControlFlow::Continue(())
    }
}

struct DiffWorker {
    repo: gix::Repository,
    state: gix::diff::tree::State,
    lhs: Vec<u8>,
    rhs: Vec<u8>,
    buf: Vec<u8>,
}

impl DiffWorker {
    /// Entries of `tree` that differ from `base` (None: the empty tree).
    fn diff(&mut self, base: Option<ObjectId>, tree: ObjectId) -> Result<Vec<Change>> {
        let kind = self.repo.object_hash();
        let objects = &self.repo.objects;
        let rhs = objects
            .find_tree_iter(&tree, &mut self.rhs)
            .map_err(|e| anyhow!("tree {tree}: {e}"))?;
        let lhs = match base {
            Some(b) => objects
                .find_tree_iter(&b, &mut self.lhs)
                .map_err(|e| anyhow!("tree {b}: {e}"))?,
            None => gix::objs::TreeRefIter::from_bytes(&[], kind),
        };
        let mut collect = Collect::default();
        let res = gix::diff::tree(lhs, rhs, &mut self.state, objects, &mut collect);
        match res {
            Ok(()) => Ok(collect.out),
            Err(e) => Err(anyhow!("diff of {tree}: {e}")),
        }
    }

    fn parent_tree(
        &mut self,
        parent: &ObjectId,
        trees: &HashMap<ObjectId, ObjectId>,
    ) -> Option<ObjectId> {
        if let Some(t) = trees.get(parent) {
            return Some(*t);
        }
        let kind = self.repo.object_hash();
        read_commit(&self.repo.objects, parent, &mut self.buf, kind).map(|p| p.tree)
    }

    /// The entries of `node`'s tree that differ from its first parent's, each marked
    /// `introduced` when no parent has that (path, blob) pair.
    fn changes(
        &mut self,
        node: &Node,
        trees: &HashMap<ObjectId, ObjectId>,
        shallow: &HashSet<ObjectId>,
    ) -> Result<Vec<Change>> {
        let parents: Vec<Option<ObjectId>> = if shallow.contains(&node.id) {
            Vec::new()
        } else {
            node.parents
                .iter()
                .map(|p| self.parent_tree(p, trees))
                .collect()
        };
        let first = parents.first().copied().flatten();
        if first == Some(node.tree) {
            return Ok(Vec::new());
        }
        let mut found = self.diff(first, node.tree)?;
        if parents.contains(&Some(node.tree)) {
            // A merge that took another parent's tree whole introduces nothing.
            for c in &mut found {
                c.introduced = false;
            }
            return Ok(found);
        }
        for other in parents.iter().skip(1) {
            if !found.iter().any(|c| c.introduced) {
                break;
            }
            let also: std::collections::HashSet<(BString, ObjectId)> = self
                .diff(*other, node.tree)?
                .into_iter()
                .filter(|c| !c.deleted)
                .map(|c| (c.path, c.id))
                .collect();
            for c in &mut found {
                if c.introduced && !also.contains(&(c.path.clone(), c.id)) {
                    c.introduced = false;
                }
            }
        }
        Ok(found)
    }
}

/// Tree diffs on every core, folded into the index in topological order.
fn diff_all(
    repo: &gix::Repository,
    nodes: &[Node],
    shallow: &HashSet<ObjectId>,
    threads: usize,
    scanner: &Scanner,
    counts: &Counts,
    index: &mut Index,
) {
    let trees: HashMap<ObjectId, ObjectId> = nodes.iter().map(|n| (n.id, n.tree)).collect();
    let sync = repo.clone().into_sync();
    let next = AtomicUsize::new(0);
    let (tx, rx) = crossbeam_channel::bounded::<(usize, Result<Vec<Change>>)>(BATCH);
    std::thread::scope(|s| {
        for _ in 0..threads {
            let tx = tx.clone();
            let (sync, next, trees) = (&sync, &next, &trees);
            s.spawn(move || {
                let mut w = DiffWorker {
                    repo: sync.to_thread_local(),
                    state: Default::default(),
                    lhs: Vec::new(),
                    rhs: Vec::new(),
                    buf: Vec::new(),
                };
                w.repo.object_cache_size(32 << 20);
                set_pack_cache(&mut w.repo);
                // A commit's tree is its child's parent tree: runs of neighbouring commits
                // keep the trees in this worker's cache.
                'work: loop {
                    let start = next.fetch_add(DIFF_RUN, Ordering::Relaxed);
                    if start >= nodes.len() {
                        break;
                    }
                    for (i, node) in nodes.iter().enumerate().skip(start).take(DIFF_RUN) {
                        let r = w.changes(node, trees, shallow);
                        if tx.send((i, r)).is_err() {
                            break 'work;
                        }
                    }
                }
            });
        }
        drop(tx);
        // Results arrive out of order; fold them in topological order.
        let mut waiting: BTreeMap<usize, Result<Vec<Change>>> = BTreeMap::new();
        let mut want = 0usize;
        for (i, r) in rx {
            waiting.insert(i, r);
            while let Some(r) = waiting.remove(&want) {
                let node = want as u32;
                match r {
                    Ok(changes) => {
                        for c in &changes {
                            if !c.introduced {
                                continue;
                            }
                            match c.kind {
                                EntryKind::Blob | EntryKind::BlobExecutable => {
                                    index.add(scanner, c.path.as_bstr(), c.id, node)
                                }
                                EntryKind::Commit => {
                                    index.submodule_paths.insert(c.path.clone());
                                }
                                // Symlink targets are paths, not content.
                                EntryKind::Link | EntryKind::Tree => {}
                            }
                        }
                        for c in &changes {
                            index.record_version(c, node);
                        }
                    }
                    Err(e) => {
                        counts.missing.fetch_add(1, Ordering::Relaxed);
                        scanner
                            .stats
                            .error(format!("commit {}: {e}", nodes[want].id));
                    }
                }
                want += 1;
            }
        }
    });
}

/// Each blob decoded and scanned once; returns (blob index, findings) for blobs with findings.
fn scan_blobs(
    repo: &gix::Repository,
    blobs: &[BlobEntry],
    paths: &[BString],
    threads: usize,
    scanner: &Scanner,
    counts: &Counts,
    progress: Option<&indicatif::ProgressBar>,
) -> Vec<(usize, Vec<Finding>)> {
    let order = pack_order(repo, blobs);
    let sync = repo.clone().into_sync();
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    // Neighbouring pack entries share delta bases: hand them out in runs.
    const RUN: usize = 32;
    std::thread::scope(|s| {
        for _ in 0..threads {
            let (sync, next, results, order) = (&sync, &next, &results, &order);
            s.spawn(move || {
                let mut repo = sync.to_thread_local();
                // Blobs are read once: caching them would only evict delta bases.
                repo.object_cache_size(0);
                set_pack_cache(&mut repo);
                let mut buf = Vec::new();
                let mut local = Vec::new();
                loop {
                    let start = next.fetch_add(RUN, Ordering::Relaxed);
                    if start >= order.len() {
                        break;
                    }
                    for &bi in &order[start..(start + RUN).min(order.len())] {
                        let found = scan_one(&repo, &blobs[bi], paths, &mut buf, scanner, counts);
                        if let Some(p) = progress {
                            p.inc(1);
                        }
                        if !found.is_empty() {
                            local.push((bi, found));
                        }
                    }
                }
                if let Ok(mut r) = results.lock() {
                    r.append(&mut local);
                }
            });
        }
    });
    results.into_inner().unwrap_or_default()
}

/// A memory-capped delta-base cache per worker: on ansible/ansible it used less CPU and
/// memory than gix's default 64-entry list. `GIX_PACK_CACHE_MEMORY` still overrides it.
fn set_pack_cache(repo: &mut gix::Repository) {
    if std::env::var_os("GIX_PACK_CACHE_MEMORY").is_none() {
        repo.objects.set_pack_cache(|| {
            Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(
                PACK_CACHE_BYTES,
            ))
        });
    }
}

/// Blob indices sorted by where the blobs sit in their packs, so that delta chains are
/// resolved from a warm cache; loose objects come last.
fn pack_order(repo: &gix::Repository, blobs: &[BlobEntry]) -> Vec<usize> {
    // Offsets come from the .idx files alone: asking the object database for a location
    // inflates the entry, which would decode every blob twice.
    let kind = repo.object_hash();
    let pack_dir = repo.objects.store_ref().path().join("pack");
    let mut indices: Vec<gix::odb::pack::index::File> = std::fs::read_dir(&pack_dir)
        .map(|dir| {
            let mut paths: Vec<_> = dir
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "idx"))
                .collect();
            paths.sort();
            paths
                .into_iter()
                .filter_map(|p| gix::odb::pack::index::File::at(p, kind).ok())
                .collect()
        })
        .unwrap_or_default();
    // Largest pack first: most blobs are found on the first lookup.
    indices.sort_by_key(|i| std::cmp::Reverse(i.num_objects()));
    let mut keyed: Vec<(usize, u64, usize)> = blobs
        .iter()
        .enumerate()
        .filter(|(_, b)| !b.occs.is_empty())
        .map(|(i, b)| {
            indices
                .iter()
                .enumerate()
                .find_map(|(n, idx)| {
                    idx.lookup(b.id)
                        .map(|e| (n, idx.pack_offset_at_index(e), i))
                })
                .unwrap_or((usize::MAX, 0, i))
        })
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, _, i)| i).collect()
}

fn scan_one(
    repo: &gix::Repository,
    blob: &BlobEntry,
    paths: &[BString],
    buf: &mut Vec<u8>,
    scanner: &Scanner,
    counts: &Counts,
) -> Vec<Finding> {
    let Some(first) = blob.occs.first() else {
        return Vec::new();
    };
    let objects = &repo.objects;
    match objects.try_header(&blob.id) {
        Ok(Some(h)) => {
            if too_large(scanner, h.size) {
                return Vec::new();
            }
        }
        Ok(None) => {
            counts.missing.fetch_add(1, Ordering::Relaxed);
            return Vec::new();
        }
        Err(e) => {
            scanner.stats.error(format!("blob {}: {e}", blob.id));
            return Vec::new();
        }
    }
    let data = match objects.try_find(&blob.id, buf) {
        Ok(Some(d)) => d,
        Ok(None) => {
            counts.missing.fetch_add(1, Ordering::Relaxed);
            return Vec::new();
        }
        Err(e) => {
            scanner.stats.error(format!("blob {}: {e}", blob.id));
            return Vec::new();
        }
    };
    if data.kind != gix::objs::Kind::Blob {
        scanner
            .stats
            .error(format!("{} is a {}, not a blob", blob.id, data.kind));
        return Vec::new();
    }
    if is_lfs_pointer(data.data) {
        Stats::add(&scanner.stats.skipped_lfs, 1);
        counts.lfs.fetch_add(1, Ordering::Relaxed);
        return Vec::new();
    }
    let prov = Provenance::GitBlob {
        path: paths[first.path as usize].to_str_lossy().into_owned(),
        blob_id: blob.id.to_string(),
    };
    scanner.scan_blob(data.data, &prov)
}
