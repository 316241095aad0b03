//! History findings grouped into leaks: one finding per leaked value at one path.
//!
//! A blob is scanned once, but a value lives on in every later version of its file: a commit
//! that edits another line writes a new blob that still holds it. Reporting blobs would report
//! one leak once per edit of its file and credit each edit with it. Here each path's version
//! is followed through the commit graph instead (a commit's version of a path is the one it
//! wrote, else its first parent's), which gives, per (value, path): the commit that
//! introduced it (the earliest whose version holds it while no parent's does), the newest that
//! still holds it, how many versions hold it, whether HEAD holds it, the commit on HEAD's
//! first-parent line that removed it, and which refs reach it.
//!
//! A version "holds" a value when the rules found it there, or when its bytes are there next
//! to a version where they were found: an edit can reshape a line so that no rule matches it
//! (`password: 'x'` → `password=x`) without removing the secret, and the commit that wrote the
//! first version is still the one that leaked it. Only the versions on either side of such a
//! boundary are read again, and only for values of at least `RAW_MIN` bytes (a short value is
//! too likely to occur by chance).
//!
//! The cost is one pass over the commits per path holding a finding (one `u32` per commit,
//! reused from path to path) and one pass per 64 refs, run only when there are findings.

use super::history::{BlobEntry, Node};
use crate::pipeline::finding::{CommitInfo, Finding, LeakHistory};
use crate::pipeline::{Scanner, Stats};
use gix::ObjectId;
use gix::bstr::{BString, ByteSlice};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// No node, no path version, no blob.
pub(super) const NONE: u32 = u32::MAX;
/// Introducing commits kept per leak (for `refs`); a value introduced independently more
/// often than this is rare, and the earliest are the ones a reader follows.
const INTRODUCERS: usize = 64;
/// The shortest value searched for by its bytes in versions the rules did not flag.
const RAW_MIN: usize = 8;

/// A commit's version of a path, where it differs from its first parent's.
#[derive(Clone, Copy)]
pub(super) struct Version {
    pub(super) node: u32,
    pub(super) path: u32,
    /// The blob the path now holds; `NONE` when deleted, not a blob, or never scanned.
    pub(super) blob: u32,
}

/// What the history pass knows, for grouping its findings.
pub(super) struct History<'a> {
    /// Commits (and trees reached from tags) in topological order, parents first.
    pub(super) nodes: &'a [Node],
    /// Sorted by node.
    pub(super) versions: &'a [Version],
    pub(super) blobs: &'a [BlobEntry],
    pub(super) paths: &'a [BString],
    pub(super) head: Option<ObjectId>,
    /// The blob HEAD holds at a path, for a HEAD outside the scanned commits.
    pub(super) head_blob: &'a dyn Fn(u32) -> Option<u32>,
    /// A blob's content as the pipeline scans it (None: unreadable or over the size limit).
    pub(super) read_blob: &'a dyn Fn(u32) -> Option<Vec<u8>>,
    /// Every ref scanned, with the commit or tree it points at.
    pub(super) tips: &'a [(String, ObjectId)],
}

/// One leak being gathered.
struct Leak<'r> {
    path: u32,
    /// One finding of each blob where the rules found the value at this path.
    found: Vec<(u32, &'r Finding)>,
    /// Every blob holding the value: those in `found`, then those where its bytes were found.
    holders: Vec<u32>,
    /// The value's bytes, when unflagged versions may be searched for them.
    raw: Option<&'r [u8]>,
    first: u32,
    first_blob: u32,
    last: u32,
    occurrences: u64,
    introducers: Vec<u32>,
    present: bool,
    removed_in: u32,
}

/// The commit graph as node indices.
struct Graph {
    first_parent: Vec<u32>,
    /// Parents of node `i`: `parents[starts[i]..starts[i + 1]]`.
    starts: Vec<u32>,
    parents: Vec<u32>,
}

impl Graph {
    fn new(nodes: &[Node]) -> (Graph, HashMap<ObjectId, u32>) {
        let pos: HashMap<ObjectId, u32> = (nodes.iter().enumerate())
            .map(|(i, n)| (n.id, i as u32))
            .collect();
        let mut g = Graph {
            first_parent: Vec::with_capacity(nodes.len()),
            starts: Vec::with_capacity(nodes.len() + 1),
            parents: Vec::with_capacity(nodes.len()),
        };
        for (i, n) in nodes.iter().enumerate() {
            g.starts.push(g.parents.len() as u32);
            // Parents come first in topological order; anything else is not a parent here.
            let inside = |p: &ObjectId| pos.get(p).copied().filter(|&q| (q as usize) < i);
            g.first_parent
                .push(n.parents.first().and_then(inside).unwrap_or(NONE));
            g.parents.extend(n.parents.iter().filter_map(inside));
        }
        g.starts.push(g.parents.len() as u32);
        (g, pos)
    }

    fn parents(&self, i: usize) -> &[u32] {
        &self.parents[self.starts[i] as usize..self.starts[i + 1] as usize]
    }
}

/// The bits set in `m`, lowest first.
fn bits(mut m: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        if m == 0 {
            return None;
        }
        let b = m.trailing_zeros() as usize;
        m &= m - 1;
        Some(b)
    })
}

/// Groups the per-blob findings of a history scan into one finding per leak.
pub(super) fn group(
    h: &History<'_>,
    results: Vec<(usize, Vec<Finding>)>,
    scanner: &Scanner,
    commit_of: &dyn Fn(&Node) -> Option<Arc<CommitInfo>>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut leaks: Vec<Leak<'_>> = Vec::new();
    // A value keeps its leak when an edit changes the line around it so that another rule
    // matches it: the rule reported is the one that matched in the introducing version.
    let mut by_key: HashMap<(u32, &[u8]), usize> = HashMap::new();
    let mut allowed: HashMap<(u32, &str), bool> = HashMap::new();
    let mut suppressed: HashSet<(u32, &[u8])> = HashSet::new();
    for (bi, found) in &results {
        let blob = &h.blobs[*bi];
        for (k, occ) in blob.occs.iter().enumerate() {
            let path = h.paths[occ.path as usize].to_str_lossy();
            for f in found {
                let key = (occ.path, value(f));
                // The rule allowlists of the blob's first path were applied during the scan.
                if k > 0
                    && *allowed
                        .entry((occ.path, &f.rule_id))
                        .or_insert_with(|| scanner.allowlist.finding_allowed(&f.rule_id, &path, ""))
                {
                    suppressed.insert(key);
                    continue;
                }
                if occ.node == NONE {
                    // A blob a ref points at directly: no commit, no versions to follow.
                    let mut f = f.clone();
                    f.path = path.to_string();
                    out.push(f);
                    continue;
                }
                let li = *by_key.entry(key).or_insert_with(|| {
                    let raw = (f.pending.as_ref())
                        .map(|p| p.0.as_slice())
                        .filter(|v| v.len() >= RAW_MIN && f.decoded.is_none());
                    leaks.push(Leak {
                        path: occ.path,
                        found: Vec::new(),
                        holders: Vec::new(),
                        raw,
                        first: NONE,
                        first_blob: NONE,
                        last: NONE,
                        occurrences: 0,
                        introducers: Vec::new(),
                        present: false,
                        removed_in: NONE,
                    });
                    leaks.len() - 1
                });
                let l = &mut leaks[li];
                // A blob's occurrences come together: a value twice in one blob is one leak.
                if l.found.last().map(|(b, _)| *b) != Some(*bi as u32) {
                    l.found.push((*bi as u32, f));
                    l.holders.push(*bi as u32);
                }
            }
        }
    }
    Stats::add(&scanner.stats.suppressed_allowlist, suppressed.len() as u64);
    if leaks.is_empty() {
        return out;
    }

    let (graph, pos) = Graph::new(h.nodes);
    let head = h.head.and_then(|id| pos.get(&id).copied());
    // HEAD's first-parent line, newest first.
    let mut chain = Vec::new();
    let mut at = head.unwrap_or(NONE);
    while at != NONE {
        chain.push(at);
        at = graph.first_parent[at as usize];
    }
    follow_paths(h, &graph, head, &chain, &mut leaks);
    let reach = refs_reaching(h, &graph, &pos, &leaks);

    let mut infos: HashMap<u32, Option<Arc<CommitInfo>>> = HashMap::new();
    let mut info = |node: u32| -> Option<CommitInfo> {
        if node == NONE {
            return None;
        }
        infos
            .entry(node)
            .or_insert_with(|| {
                let n = &h.nodes[node as usize];
                if n.is_commit { commit_of(n) } else { None }
            })
            .as_deref()
            .cloned()
    };
    for l in &leaks {
        let mut f = match l.found.iter().find(|(b, _)| *b == l.first_blob) {
            Some((_, f)) => (*f).clone(),
            None => match l.found.first() {
                // The introducing version holds the bytes where no rule matched them.
                Some((_, f)) => relocated(h, f, l),
                None => continue,
            },
        };
        f.path = h.paths[l.path as usize].to_str_lossy().into_owned();
        f.commit = info(l.first);
        let (refs, ref_names) = reach.names(&l.introducers);
        f.history = Some(Box::new(LeakHistory {
            present: l.present,
            removed_in: info(l.removed_in),
            last_seen: info(l.last),
            occurrences: l.occurrences,
            refs,
            ref_names,
            unreachable: false,
        }));
        out.push(f);
    }
    out
}

/// A leak's finding moved to the introducing version, where its bytes were found unflagged.
fn relocated(h: &History<'_>, f: &Finding, l: &Leak<'_>) -> Finding {
    let mut f = f.clone();
    let (Some(raw), Some(data)) = (l.raw, (h.read_blob)(l.first_blob)) else {
        return f;
    };
    let Some(at) = memchr::memmem::find(&data, raw) else {
        return f;
    };
    let mut cursor = crate::pipeline::finding::LineCursor::new(&data, 1);
    let (line, column) = cursor.locate(at);
    let (end_line, end_column) = cursor.locate(at + raw.len());
    let (ls, le) = cursor.line_bounds(at);
    f.snippet = crate::pipeline::snippet(&data[ls..le], at - ls, at + raw.len() - ls, &f.secret);
    (f.line, f.column, f.end_line, f.end_column) = (line, column, end_line, end_column);
    (f.start_byte, f.end_byte) = (at, at + raw.len());
    f.blob_id = Some(h.blobs[l.first_blob as usize].id.to_string());
    f
}

/// What makes two findings the same leak at a path: the value itself while the scan holds it
/// (fingerprints come later, for all findings at once), else its fingerprint.
fn value(f: &Finding) -> &[u8] {
    match &f.pending {
        Some(p) => &p.0,
        None => f.fingerprint.as_bytes(),
    }
}

/// Follows every path holding a leak through the commits and fills in each leak's first,
/// last, occurrences, introducers, present and removed_in.
fn follow_paths(
    h: &History<'_>,
    graph: &Graph,
    head: Option<u32>,
    chain: &[u32],
    leaks: &mut [Leak<'_>],
) {
    let mut by_path: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, l) in leaks.iter().enumerate() {
        by_path.entry(l.path).or_default().push(i);
    }
    let mut versions: HashMap<u32, Vec<(u32, u32)>> = HashMap::new();
    for v in h.versions {
        if by_path.contains_key(&v.path) {
            versions.entry(v.path).or_default().push((v.node, v.blob));
        }
    }
    let mut walk = Walk {
        graph,
        // Per commit: the path's version (a blob), and the same as a local number (0: holds
        // no leak's value).
        blob: vec![NONE; h.nodes.len()],
        local: vec![0; h.nodes.len()],
    };
    for (path, members) in &by_path {
        let vs = versions.get(path).map(Vec::as_slice).unwrap_or(&[]);
        let head_blob = match head {
            Some(_) => None,
            None => (h.head_blob)(*path),
        };
        // Versions whose bytes were searched for a leak's value.
        let mut searched: HashSet<(u32, usize)> = HashSet::new();
        let mut last_read: Option<(u32, Option<Vec<u8>>)> = None;
        let mut holds = |blob: u32, raw: &[u8]| -> bool {
            if last_read.as_ref().map(|(b, _)| *b) != Some(blob) {
                last_read = Some((blob, (h.read_blob)(blob)));
            }
            let data = last_read.as_ref().and_then(|(_, d)| d.as_deref());
            data.is_some_and(|d| memchr::memmem::find(d, raw).is_some())
        };
        loop {
            let global = walk.number(vs, members, leaks);
            let mut grew = false;
            for chunk in members.chunks(64) {
                let mask = masks(chunk, leaks, &global);
                let mut edges = walk.boundaries(&mask);
                if let Some(b) = head_blob {
                    edges.extend((0..chunk.len()).map(|bit| (bit, b)));
                }
                for (bit, blob) in edges {
                    let li = chunk[bit];
                    let Some(raw) = leaks[li].raw else {
                        continue;
                    };
                    if leaks[li].holders.contains(&blob) || !searched.insert((blob, li)) {
                        continue;
                    }
                    if holds(blob, raw) {
                        leaks[li].holders.push(blob);
                        grew = true;
                    }
                }
            }
            if !grew {
                for chunk in members.chunks(64) {
                    let mask = masks(chunk, leaks, &global);
                    walk.tally(&mask, chunk, &global, head, head_blob, chain, leaks);
                }
                break;
            }
        }
    }
}

/// One path's versions along the commits.
struct Walk<'g> {
    graph: &'g Graph,
    blob: Vec<u32>,
    local: Vec<u32>,
}

/// Per local blob number, one bit per leak of the chunk that the blob holds.
fn masks(chunk: &[usize], leaks: &[Leak<'_>], global: &[u32]) -> Vec<u64> {
    let local: HashMap<u32, usize> = global.iter().enumerate().map(|(i, &b)| (b, i)).collect();
    let mut mask = vec![0u64; global.len()];
    for (bit, &li) in chunk.iter().enumerate() {
        for b in &leaks[li].holders {
            mask[local[b]] |= 1 << bit;
        }
    }
    mask
}

impl Walk<'_> {
    /// Fills in every commit's version of the path from the versions that changed it, and
    /// numbers the blobs holding a member's value; returns the global blob of each number.
    fn number(&mut self, vs: &[(u32, u32)], members: &[usize], leaks: &[Leak<'_>]) -> Vec<u32> {
        let mut local: HashMap<u32, u32> = HashMap::new();
        let mut global = vec![NONE];
        for &li in members {
            for &b in &leaks[li].holders {
                local.entry(b).or_insert_with(|| {
                    global.push(b);
                    global.len() as u32 - 1
                });
            }
        }
        let mut vi = 0;
        for i in 0..self.blob.len() {
            let fp = self.graph.first_parent[i];
            let (mut b, mut l) = if fp == NONE {
                (NONE, 0)
            } else {
                (self.blob[fp as usize], self.local[fp as usize])
            };
            while vi < vs.len() && vs[vi].0 as usize == i {
                b = vs[vi].1;
                l = local.get(&b).copied().unwrap_or(0);
                vi += 1;
            }
            self.blob[i] = b;
            self.local[i] = l;
        }
        global
    }

    /// (leak bit, blob) pairs across every parent-child edge where one side holds a value and
    /// the other side's blob is not known to: the versions worth searching for its bytes.
    fn boundaries(&self, mask: &[u64]) -> Vec<(usize, u32)> {
        let mut out = Vec::new();
        for i in 0..self.blob.len() {
            let m = mask[self.local[i] as usize];
            for &q in self.graph.parents(i) {
                let mq = mask[self.local[q as usize] as usize];
                for bit in bits(m ^ mq) {
                    let lacking = if m & (1 << bit) != 0 { q as usize } else { i };
                    if self.blob[lacking] != NONE {
                        out.push((bit, self.blob[lacking]));
                    }
                }
            }
        }
        out.sort_unstable_by_key(|&(bit, b)| (b, bit));
        out.dedup();
        out
    }

    /// Counts what each leak of the chunk needs from the numbered versions.
    #[allow(clippy::too_many_arguments)]
    fn tally(
        &self,
        mask: &[u64],
        chunk: &[usize],
        global: &[u32],
        head: Option<u32>,
        head_blob: Option<u32>,
        chain: &[u32],
        leaks: &mut [Leak<'_>],
    ) {
        for i in 0..self.blob.len() {
            let m = mask[self.local[i] as usize];
            if m == 0 {
                continue;
            }
            let held_before = (self.graph.parents(i).iter())
                .fold(0, |acc, &q| acc | mask[self.local[q as usize] as usize]);
            for bit in bits(m) {
                let l = &mut leaks[chunk[bit]];
                if l.first == NONE {
                    l.first = i as u32;
                    l.first_blob = global[self.local[i] as usize];
                }
                l.last = i as u32;
                l.occurrences += 1;
                if held_before & (1 << bit) == 0 && l.introducers.len() < INTRODUCERS {
                    l.introducers.push(i as u32);
                }
            }
        }
        let present = match head {
            Some(hd) => mask[self.local[hd as usize] as usize],
            None => head_blob
                .and_then(|b| global.iter().position(|&g| g == b))
                .map_or(0, |n| mask[n]),
        };
        for bit in bits(present) {
            leaks[chunk[bit]].present = true;
        }
        // The last removal on HEAD's first-parent line, walking back from HEAD.
        let all = if chunk.len() == 64 {
            u64::MAX
        } else {
            (1 << chunk.len()) - 1
        };
        let mut open = all & !present;
        for w in chain.windows(2) {
            if open == 0 {
                break;
            }
            let (q, r) = (w[0] as usize, w[1] as usize);
            let removed = mask[self.local[r] as usize] & !mask[self.local[q] as usize] & open;
            for bit in bits(removed) {
                leaks[chunk[bit]].removed_in = q as u32;
            }
            open &= !removed;
        }
    }
}

/// Which refs reach each introducing commit.
struct Reach<'a> {
    tips: Vec<&'a str>,
    /// Per introducing commit: one bit per tip, in chunks of 64.
    at: HashMap<u32, Vec<u64>>,
}

impl Reach<'_> {
    /// How many refs reach any of `nodes`, and the first names of them (sorted).
    fn names(&self, nodes: &[u32]) -> (u64, Vec<String>) {
        let chunks = self.tips.len().div_ceil(64);
        let mut any = vec![0u64; chunks];
        for n in nodes {
            if let Some(bits) = self.at.get(n) {
                for (a, b) in any.iter_mut().zip(bits) {
                    *a |= b;
                }
            }
        }
        let mut names: Vec<&str> = Vec::new();
        for (c, m) in any.iter().enumerate() {
            names.extend(bits(*m).map(|b| self.tips[c * 64 + b]));
        }
        names.sort_unstable();
        names.dedup();
        let count = names.len() as u64;
        names.truncate(LeakHistory::REF_NAMES);
        (count, names.into_iter().map(str::to_string).collect())
    }
}

/// For every introducing commit, the refs whose history holds it: one reverse topological
/// pass per 64 refs, each bit flowing from a ref's tip to all its ancestors.
fn refs_reaching<'a>(
    h: &History<'a>,
    graph: &Graph,
    pos: &HashMap<ObjectId, u32>,
    leaks: &[Leak<'_>],
) -> Reach<'a> {
    let tips: Vec<(&str, u32)> = (h.tips.iter())
        .filter_map(|(name, id)| Some((name.as_str(), *pos.get(id)?)))
        .collect();
    let mut wanted: Vec<u32> = leaks
        .iter()
        .flat_map(|l| l.introducers.iter().copied())
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut at: HashMap<u32, Vec<u64>> = HashMap::new();
    let mut reach = vec![0u64; h.nodes.len()];
    for chunk in tips.chunks(64) {
        reach.iter_mut().for_each(|r| *r = 0);
        for (bit, (_, node)) in chunk.iter().enumerate() {
            reach[*node as usize] |= 1 << bit;
        }
        for i in (0..h.nodes.len()).rev() {
            let r = reach[i];
            if r != 0 {
                for &q in graph.parents(i) {
                    reach[q as usize] |= r;
                }
            }
        }
        for &n in &wanted {
            at.entry(n).or_default().push(reach[n as usize]);
        }
    }
    Reach {
        tips: tips.into_iter().map(|(name, _)| name).collect(),
        at,
    }
}
