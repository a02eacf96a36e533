//! Matching the current findings against a baseline's: which are `new`, which `unchanged`, which
//! the change fixed (`absent`).
//!
//! **What decides.** A code finding can only match a baseline finding of the same tool identity,
//! rule and file whose line reads the same (spaces and tabs aside). Equal text is not enough: in
//! a Terraform file every `cidr_blocks = ["0.0.0.0/0"]` reads the same, and a change that narrows
//! one rule and adds another must not call the added one "unchanged". So each finding also
//! carries its *neighbourhood*: keys of the [`CONTEXT_LINES`] non-blank lines above and below it
//! (written into the SARIF as `gantryLineContext/v1`, so a baseline SARIF that gantry wrote on the
//! base branch carries it). A pair is scored by how much of the old neighbourhood is found around
//! the new line, nearer lines weighing more (the k-th line away weighs 1/k) and lines inserted
//! between them tolerated. The pair matches only when
//! - the score reaches [`MINIMUM_SCORE`] (the line directly above or below, or most of the rest), and
//! - no *edit site* explains the old neighbourhood as well or better: a line of the current file
//!   that reads differently from the old line (the old line, edited) and is not right next to the
//!   candidate (a line inserted beside an unchanged line is no edit of it). When the narrowed SSH
//!   rule's place fits the old neighbourhood better than the new RDP rule does, the old finding
//!   was fixed and the RDP one is new.
//!
//! Pairs are taken best first, one to one, and never cross: within one (tool, rule, file) the
//! matched old and new findings keep their order, as a diff aligns lines. When in doubt a finding
//! is `new` — a false `new` costs a reviewer one look, a false `unchanged` ships the hole.
//!
//! **With the change's diff** (the pull request's files, or `git diff` of the checkout) the diff
//! decides instead: a finding on a line the change left as it was matches the baseline finding
//! of the same tool identity and rule on the line it came from (in the file it came from, when
//! the change renamed it); a finding on a line the change added or rewrote is `new`. Deleting a
//! function above an untouched finding moves it, and it stays `unchanged`; the narrowed SSH
//! rule's line is rewritten, so a finding there is `new`. A file whose patch is not known is
//! matched by neighbourhood.
//!
//! Findings whose neighbourhood is unknown on one side (a baseline written by another tool, a file
//! not in the workspace) match only at the same line with the same message (and the same
//! `primaryLocationLineHash` when both have one). Dependency findings match the same
//! vulnerability in the same package; another installed version is `updated`.

use std::collections::BTreeMap;

use gantry_core::workspace::Workspace;

use crate::diff::{Change, Mapped};
use crate::merge::{BaselineState, Merged};
use crate::tools::tool_identity;

/// Non-blank lines kept on each side of a finding.
pub const CONTEXT_LINES: usize = 3;

/// The least score a match needs: the line directly above or below, or the rest of both sides.
pub const MINIMUM_SCORE: f64 = 1.0;

/// Work allowed for finding edit sites (line comparisons, summed over a run); past it, findings
/// that would need more are `new`.
const EDIT_SITE_BUDGET: usize = 400_000_000;

/// Key of a line's text without spaces and tabs (FNV-1a, 64 bits): the same as
/// [`crate::fingerprint::line_content_keys`] computes.
fn line_key(line: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in line.bytes().filter(|byte| !matches!(byte, b' ' | b'\t')) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

const BLANK: u64 = 0xcbf2_9ce4_8422_2325;

/// A file's lines as keys, with the non-blank ones indexed.
#[derive(Debug, Clone)]
pub struct FileLines {
    /// Every line's key.
    keys: Vec<u64>,
    /// Indexes (0-based) of the non-blank lines.
    non_blank: Vec<usize>,
}

/// A neighbourhood: keys (low 32 bits) of the non-blank lines above, nearest first, and below;
/// `None` past the file's edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbourhood {
    /// Above, nearest first.
    pub above: Vec<Option<u32>>,
    /// Below, nearest first.
    pub below: Vec<Option<u32>>,
}

impl FileLines {
    /// Splits `text` into lines (`\r\n`, `\r`, `\n`) as the line hashes do.
    pub fn new(text: &str) -> Self {
        let mut keys = Vec::new();
        let mut rest = text;
        loop {
            let end = rest.find(['\r', '\n']).unwrap_or(rest.len());
            keys.push(line_key(&rest[..end]));
            if end == rest.len() {
                break;
            }
            let skip = if rest[end..].starts_with("\r\n") {
                2
            } else {
                1
            };
            rest = &rest[end + skip..];
        }
        let non_blank = (0..keys.len()).filter(|&i| keys[i] != BLANK).collect();
        Self { keys, non_blank }
    }

    /// The key of line `index` (0-based).
    fn key(&self, index: usize) -> Option<u64> {
        self.keys.get(index).copied()
    }

    /// How many non-blank lines come before line `index`.
    fn rank(&self, index: usize) -> usize {
        self.non_blank.partition_point(|&line| line < index)
    }

    /// The neighbourhood of line `index` with `width` lines a side.
    fn neighbourhood(&self, index: usize, width: usize) -> Neighbourhood {
        let rank = self.rank(index);
        let short = |key: u64| Some((key & 0xffff_ffff) as u32);
        let above = (1..=width)
            .map(|k| {
                rank.checked_sub(k)
                    .map(|at| self.keys[self.non_blank[at]])
                    .and_then(short)
            })
            .collect();
        let first_below = if self.keys.get(index).is_some_and(|&key| key != BLANK) {
            rank + 1
        } else {
            rank
        };
        let below = (0..width)
            .map(|k| {
                self.non_blank
                    .get(first_below + k)
                    .map(|&at| self.keys[at])
                    .and_then(short)
            })
            .collect();
        Neighbourhood { above, below }
    }
}

impl Neighbourhood {
    /// The fingerprint text: `a1.a2.a3/b1.b2.b3`, each 8 hexadecimal digits or `-` past the edge.
    pub fn encode(&self) -> String {
        let side = |keys: &[Option<u32>]| {
            keys.iter()
                .map(|key| key.map_or_else(|| "-".to_owned(), |key| format!("{key:08x}")))
                .collect::<Vec<_>>()
                .join(".")
        };
        format!("{}/{}", side(&self.above), side(&self.below))
    }

    /// Reads [`Self::encode`]'s text; anything else is no neighbourhood.
    pub fn decode(text: &str) -> Option<Self> {
        let (above, below) = text.split_once('/')?;
        let side = |part: &str| -> Option<Vec<Option<u32>>> {
            part.split('.')
                .map(|key| {
                    if key == "-" {
                        Some(None)
                    } else if key.len() == 8 {
                        u32::from_str_radix(key, 16).ok().map(Some)
                    } else {
                        None
                    }
                })
                .collect()
        };
        let (above, below) = (side(above)?, side(below)?);
        (above.len() == CONTEXT_LINES && below.len() == CONTEXT_LINES)
            .then_some(Self { above, below })
    }
}

/// How much of `old` (nearest first) is found, in order, in `new`: the k-th old line weighs 1/k,
/// the file's edge half that (code appended at the end moves the edge away from every line
/// near it, so it tells less than a line does).
#[expect(clippy::cast_precision_loss, reason = "k is at most a few lines")]
fn side_score(old: &[Option<u32>], new: &[Option<u32>]) -> f64 {
    // Weighted longest common subsequence, old × new.
    let mut table = vec![vec![0.0f64; new.len() + 1]; old.len() + 1];
    for i in 1..=old.len() {
        for j in 1..=new.len() {
            let mut best = table[i - 1][j].max(table[i][j - 1]);
            if old[i - 1] == new[j - 1] {
                let weight = if old[i - 1].is_some() { 1.0 } else { 0.5 };
                best = best.max(table[i - 1][j - 1] + weight / i as f64);
            }
            table[i][j] = best;
        }
    }
    table[old.len()][new.len()]
}

/// The score of the old neighbourhood around line `index` of the current file; the current side
/// reads one line further, so one inserted line costs no more than the line it displaces.
fn score(old: &Neighbourhood, file: &FileLines, index: usize) -> f64 {
    let new = file.neighbourhood(index, CONTEXT_LINES + 1);
    side_score(&old.above, &new.above) + side_score(&old.below, &new.below)
}

/// Computes `primaryLocationLineHash`, the content key and the neighbourhood from the workspace's
/// files (a hash the tool gave is replaced: the upload action would compute the same one from the
/// same file).
pub fn hash_lines(merged: &mut [Merged], workspace: &dyn Workspace) {
    type Keys = Option<(Vec<String>, Vec<String>, FileLines)>;
    let mut files: BTreeMap<String, Keys> = BTreeMap::new();
    for entry in merged.iter_mut() {
        let location = &entry.finding.location;
        let (Some(path), Some(line)) = (&location.path, location.start_line) else {
            continue;
        };
        let keys = files.entry(path.clone()).or_insert_with(|| {
            workspace.read_text(path).map(|text| {
                (
                    crate::fingerprint::line_hashes(&text),
                    crate::fingerprint::line_content_keys(&text),
                    FileLines::new(&text),
                )
            })
        });
        let Some((hashes, contents, lines)) = keys.as_ref() else {
            continue;
        };
        let Some(index) = usize::try_from(line)
            .ok()
            .and_then(|line| line.checked_sub(1))
        else {
            continue;
        };
        if let (Some(hash), Some(content)) = (hashes.get(index), contents.get(index)) {
            entry.line_hash = Some(hash.clone());
            entry.content_key = Some(content.clone());
            entry.context = Some(lines.neighbourhood(index, CONTEXT_LINES).encode());
        }
    }
}

pub(crate) fn is_dependency(entry: &Merged) -> bool {
    entry.finding.package.is_some() && entry.finding.vulnerability.is_some()
}

fn hash_without_occurrence(hash: &str) -> &str {
    hash.split(':').next().unwrap_or(hash)
}

/// Candidates by the part of the identity that does not move: tool identity (or vulnerability),
/// rule, file.
fn group(entry: &Merged) -> String {
    let finding = &entry.finding;
    match (&finding.vulnerability, &finding.package) {
        (Some(vulnerability), Some(package)) => format!(
            "dependency\u{0}{vulnerability}\u{0}{}",
            package.to_ascii_lowercase()
        ),
        _ => format!(
            "code\u{0}{}\u{0}{}\u{0}{}",
            tool_identity(&finding.tool).slug,
            finding.rule_id,
            finding.location.path.as_deref().unwrap_or_default()
        ),
    }
}

fn place(entry: &Merged) -> (u32, u32) {
    let location = &entry.finding.location;
    (
        location.start_line.unwrap_or(0),
        location.start_column.unwrap_or(0),
    )
}

fn changed(old: &Merged, new: &Merged) -> bool {
    old.finding.severity != new.finding.severity || old.finding.version != new.finding.version
}

/// Pairs taken best first, one to one, never crossing (indexes are in place order).
fn take_pairs(mut pairs: Vec<(f64, usize, usize)>) -> Vec<(usize, usize)> {
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then((a.1, a.2).cmp(&(b.1, b.2))));
    let mut taken: BTreeMap<usize, usize> = BTreeMap::new();
    let mut new_taken = std::collections::BTreeSet::new();
    for (_, old, new) in pairs {
        if taken.contains_key(&old) || new_taken.contains(&new) {
            continue;
        }
        let before_ok = taken.range(..old).next_back().is_none_or(|(_, &n)| n < new);
        let after_ok = taken.range(old + 1..).next().is_none_or(|(_, &n)| n > new);
        if before_ok && after_ok {
            taken.insert(old, new);
            new_taken.insert(new);
        }
    }
    taken.into_iter().collect()
}

/// Marks each finding `new`, `unchanged` or `updated` against the baseline's findings and
/// returns the baseline findings that are gone (`absent`: fixed). `workspace` is the current
/// checkout, whose files give the current neighbourhoods; `change`, when known, the diff from
/// the baseline's commit.
pub fn match_baseline(
    merged: &mut [Merged],
    mut baseline: Vec<Merged>,
    workspace: &dyn Workspace,
    change: Option<&Change>,
) -> Vec<Merged> {
    // A file the change renamed: its old findings are looked for under its new name.
    let mut renamed_from: BTreeMap<String, String> = BTreeMap::new();
    if let Some(change) = change {
        for entry in baseline.iter_mut().filter(|entry| !is_dependency(entry)) {
            let Some(path) = entry.finding.location.path.clone() else {
                continue;
            };
            if let Some(current) = change
                .current_path(&path)
                .filter(|current| *current != path)
            {
                renamed_from.insert(current.clone(), path);
                entry.finding.location.path = Some(current);
            }
        }
    }
    let mut groups: BTreeMap<String, (Vec<usize>, Vec<usize>)> = BTreeMap::new();
    for (index, entry) in baseline.iter().enumerate() {
        groups.entry(group(entry)).or_default().0.push(index);
    }
    for (index, entry) in merged.iter().enumerate() {
        groups.entry(group(entry)).or_default().1.push(index);
    }
    let mut files: BTreeMap<String, Option<FileLines>> = BTreeMap::new();
    let mut budget = EDIT_SITE_BUDGET;
    let mut states: Vec<Option<BaselineState>> = vec![None; merged.len()];
    let mut old_matched = vec![false; baseline.len()];
    for (name, (mut old, mut new)) in groups {
        if old.is_empty() || new.is_empty() {
            continue;
        }
        old.sort_by_key(|&i| place(&baseline[i]));
        new.sort_by_key(|&i| place(&merged[i]));
        let pairs = if name.starts_with("dependency") {
            dependency_pairs(&old, &new, &baseline, merged)
        } else {
            let path = merged[new[0]]
                .finding
                .location
                .path
                .clone()
                .unwrap_or_default();
            if let Some(change) = change.filter(|change| change.knows(&path)) {
                diff_pairs(&old, &new, &baseline, merged, change, &path)
            } else {
                let file = files.entry(path.clone()).or_insert_with(|| {
                    workspace.read_text(&path).map(|text| FileLines::new(&text))
                });
                code_pairs(&old, &new, &baseline, merged, file.as_ref(), &mut budget)
            }
        };
        for (o, n) in pairs {
            let (old_index, new_index) = (old[o], new[n]);
            old_matched[old_index] = true;
            states[new_index] = Some(if changed(&baseline[old_index], &merged[new_index]) {
                BaselineState::Updated
            } else {
                BaselineState::Unchanged
            });
        }
    }
    for (entry, state) in merged.iter_mut().zip(states) {
        entry.state = Some(state.unwrap_or(BaselineState::New));
    }
    baseline
        .into_iter()
        .zip(old_matched)
        .filter(|(_, matched)| !matched)
        .map(|(mut gone, _)| {
            // A fixed finding is shown where it was.
            if let Some(path) = gone.finding.location.path.as_ref() {
                if let Some(base) = renamed_from.get(path) {
                    gone.finding.location.path = Some(base.clone());
                }
            }
            gone.state = Some(BaselineState::Absent);
            gone
        })
        .collect()
}

/// Code findings of one (tool, rule, file) by the change's diff: a finding on a line the change
/// left matches the old finding on the line it came from (the nearest column first); one on an
/// added line matches nothing. A finding without a line matches one without a line and the
/// same message.
fn diff_pairs(
    old: &[usize],
    new: &[usize],
    baseline: &[Merged],
    merged: &[Merged],
    change: &Change,
    path: &str,
) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    for (n, &new_index) in new.iter().enumerate() {
        let after = &merged[new_index].finding;
        let came_from = match after.location.start_line {
            Some(line) => match change.base_line(path, line) {
                Mapped::Same(_, base) => Some(base),
                Mapped::Added | Mapped::Unknown => continue,
            },
            None => None,
        };
        for (o, &old_index) in old.iter().enumerate() {
            let before = &baseline[old_index].finding;
            let fits = match came_from {
                Some(base) => before.location.start_line == Some(base),
                None => before.location.start_line.is_none() && before.message == after.message,
            };
            if fits {
                let columns = before
                    .location
                    .start_column
                    .unwrap_or(0)
                    .abs_diff(after.location.start_column.unwrap_or(0));
                pairs.push((1.0 / (1.0 + f64::from(columns)), o, n));
            }
        }
    }
    take_pairs(pairs)
}

/// Same version first, then any version.
fn dependency_pairs(
    old: &[usize],
    new: &[usize],
    baseline: &[Merged],
    merged: &[Merged],
) -> Vec<(usize, usize)> {
    let mut pairs = Vec::new();
    let mut old_free = vec![true; old.len()];
    let mut new_free = vec![true; new.len()];
    for same_version in [true, false] {
        for (n, &new_index) in new.iter().enumerate() {
            if !new_free[n] || !is_dependency(&merged[new_index]) {
                continue;
            }
            let found = old.iter().enumerate().position(|(o, &old_index)| {
                old_free[o]
                    && (!same_version
                        || baseline[old_index].finding.version == merged[new_index].finding.version)
            });
            if let Some(o) = found {
                old_free[o] = false;
                new_free[n] = false;
                pairs.push((o, n));
            }
        }
    }
    pairs
}

/// Code findings of one (tool, rule, file): by neighbourhood where both sides have one, else at
/// the same line with the same message.
fn code_pairs(
    old: &[usize],
    new: &[usize],
    baseline: &[Merged],
    merged: &[Merged],
    file: Option<&FileLines>,
    budget: &mut usize,
) -> Vec<(usize, usize)> {
    let mut scored = Vec::new();
    for (o, &old_index) in old.iter().enumerate() {
        let before = &baseline[old_index];
        let neighbourhood = before.context.as_deref().and_then(Neighbourhood::decode);
        // The best edit sites, at most three (a candidate's two neighbours are skipped).
        let mut edit_sites: Option<Vec<(f64, usize)>> = None;
        for (n, &new_index) in new.iter().enumerate() {
            let after = &merged[new_index];
            let line = after
                .finding
                .location
                .start_line
                .and_then(|line| usize::try_from(line).ok())
                .and_then(|line| line.checked_sub(1));
            match (
                &neighbourhood,
                file,
                line,
                &before.content_key,
                &after.content_key,
            ) {
                (Some(neighbourhood), Some(file), Some(index), Some(old_key), Some(new_key))
                    if after.context.is_some() =>
                {
                    if old_key != new_key {
                        continue;
                    }
                    let candidate = score(neighbourhood, file, index);
                    if candidate < MINIMUM_SCORE {
                        continue;
                    }
                    let Some(old_line_key) = file.key(index) else {
                        continue;
                    };
                    let sites = edit_sites.get_or_insert_with(|| {
                        best_edit_sites(neighbourhood, file, old_line_key, budget)
                    });
                    let rank = file.rank(index);
                    let rival = sites
                        .iter()
                        .filter(|&&(_, site)| file.rank(site).abs_diff(rank) > 1)
                        .map(|&(site_score, _)| site_score)
                        .fold(0.0f64, f64::max);
                    // An unknown rival (the budget ran out) is a rival.
                    let rival = if sites.is_empty() && *budget == 0 {
                        f64::INFINITY
                    } else {
                        rival
                    };
                    if candidate > rival {
                        scored.push((candidate, o, n));
                    }
                }
                _ => {
                    let same_hash = match (&before.line_hash, &after.line_hash) {
                        (Some(a), Some(b)) => {
                            hash_without_occurrence(a) == hash_without_occurrence(b)
                        }
                        _ => true,
                    };
                    if same_hash
                        && before.finding.location.start_line == after.finding.location.start_line
                        && before.finding.message == after.finding.message
                    {
                        scored.push((0.0, o, n));
                    }
                }
            }
        }
    }
    take_pairs(scored)
}

/// The three best-scoring lines of `file` that read differently from the old line, with their
/// scores; empty when the budget is spent.
fn best_edit_sites(
    old: &Neighbourhood,
    file: &FileLines,
    old_line_key: u64,
    budget: &mut usize,
) -> Vec<(f64, usize)> {
    let cost = file.non_blank.len() * 4 * CONTEXT_LINES * (CONTEXT_LINES + 1);
    if cost > *budget {
        *budget = 0;
        return Vec::new();
    }
    *budget -= cost;
    let mut best: Vec<(f64, usize)> = Vec::with_capacity(4);
    for &site in &file.non_blank {
        if file.keys[site] == old_line_key {
            continue;
        }
        let site_score = score(old, file, site);
        best.push((site_score, site));
        best.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        best.truncate(3);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merge::dedupe;
    use crate::merge::tests::{ROOT, dependency, finding};
    use crate::severity::Severity;
    use gantry_core::workspace::Listed;
    use gantry_core::workspace::NoWorkspace;

    /// States of `after`'s findings (by line) and the lines of the absent ones, for findings of
    /// one rule at the given lines of `a.tf` before and after.
    fn states(
        before: &'static str,
        old_lines: &[u32],
        after: &'static str,
        new_lines: &[u32],
    ) -> (Vec<(u32, &'static str)>, Vec<u32>) {
        let before = Listed {
            root: ROOT,
            files: &[("a.tf", before)],
        };
        let after = Listed {
            root: ROOT,
            files: &[("a.tf", after)],
        };
        let mut baseline = dedupe(
            old_lines
                .iter()
                .map(|&line| finding("Trivy", "AWS-0107", "a.tf", line))
                .collect(),
        );
        hash_lines(&mut baseline, &before);
        let mut current = dedupe(
            new_lines
                .iter()
                .map(|&line| finding("Trivy", "AWS-0107", "a.tf", line))
                .collect(),
        );
        hash_lines(&mut current, &after);
        let absent = match_baseline(&mut current, baseline, &after, None);
        lines_and_states(&current, &absent)
    }

    const GROUP: &str = r#"resource "aws_security_group" "web" {
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"#;

    // The PR narrows SSH and adds RDP right after it, its line reading like the old SSH one.
    const NARROWED_AND_RDP: &str = r#"resource "aws_security_group" "web" {
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }
  ingress {
    from_port = 3389
    to_port   = 3389
    protocol  = "tcp"
    cidr_blocks = [ "0.0.0.0/0" ]
  }
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"#;

    #[test]
    fn a_new_open_port_is_not_the_narrowed_one_unchanged() {
        let (current, absent) = states(GROUP, &[6, 12], NARROWED_AND_RDP, &[12, 18]);
        assert_eq!(current, [(12, "new"), (18, "unchanged")]);
        assert_eq!(absent, [6], "the SSH rule was fixed");
    }

    /// `git diff` (git 2.47.3) of [`GROUP`] → [`NARROWED_AND_RDP`].
    const NARROWED_AND_RDP_DIFF: &str = r#"diff --git a/a.tf b/a.tf
index 5c65fd0..169e0d8 100644
--- a/a.tf
+++ b/a.tf
@@ -3,7 +3,13 @@ resource "aws_security_group" "web" {
     from_port   = 22
     to_port     = 22
     protocol    = "tcp"
-    cidr_blocks = ["0.0.0.0/0"]
+    cidr_blocks = ["10.0.0.0/8"]
+  }
+  ingress {
+    from_port = 3389
+    to_port   = 3389
+    protocol  = "tcp"
+    cidr_blocks = [ "0.0.0.0/0" ]
   }
   ingress {
     from_port   = 443
"#;

    /// The current findings' lines and states, and the absent ones' lines.
    fn lines_and_states(
        current: &[Merged],
        absent: &[Merged],
    ) -> (Vec<(u32, &'static str)>, Vec<u32>) {
        let line = |entry: &Merged| entry.finding.location.start_line.unwrap_or(0);
        (
            current
                .iter()
                .map(|entry| {
                    (
                        line(entry),
                        entry.state.unwrap_or(BaselineState::New).word(),
                    )
                })
                .collect(),
            absent.iter().map(line).collect(),
        )
    }

    /// States as [`states`] gives them, with the change's diff.
    fn states_by_diff(
        file: (&'static str, &'static str, &'static str),
        old_lines: &[u32],
        new_lines: &[u32],
        diff: &str,
    ) -> (Vec<(u32, &'static str)>, Vec<u32>) {
        let (path, before, after) = file;
        let before = Listed {
            root: ROOT,
            files: &[(path, before)],
        };
        let after_files = [(path, after)];
        let after = Listed {
            root: ROOT,
            files: &after_files,
        };
        let found = |lines: &[u32]| -> Vec<Merged> {
            dedupe(
                lines
                    .iter()
                    .map(|&line| finding("Trivy", "AWS-0107", path, line))
                    .collect(),
            )
        };
        let mut baseline = found(old_lines);
        hash_lines(&mut baseline, &before);
        let mut current = found(new_lines);
        hash_lines(&mut current, &after);
        let change = Change::from_git_diff(diff).unwrap();
        let absent = match_baseline(&mut current, baseline, &after, Some(&change));
        lines_and_states(&current, &absent)
    }

    #[test]
    fn with_the_diff_the_narrowed_ports_line_is_rewritten_and_the_new_one_added() {
        let (current, absent) = states_by_diff(
            ("a.tf", GROUP, NARROWED_AND_RDP),
            &[6, 12],
            &[12, 18],
            NARROWED_AND_RDP_DIFF,
        );
        assert_eq!(current, [(12, "new"), (18, "unchanged")]);
        assert_eq!(absent, [6], "the SSH rule was fixed");
    }

    /// Issue 27: a finding whose line did not change was `new` when everything around it did —
    /// a function deleted right above, the function right below rewritten.
    #[test]
    fn with_the_diff_an_untouched_line_whose_neighbours_all_changed_is_unchanged() {
        const BEFORE: &str =
            "def a():\n    x = 1\n    y = 2\neval(data)\ndef b():\n    z = 3\n    w = 4\n";
        const AFTER: &str = "eval(data)\ndef b(arg):\n    z = 30\n    w = 40\n";
        const DIFF: &str = "diff --git a/app.py b/app.py\nindex aa4f80a..d6a9718 100644\n--- a/app.py\n+++ b/app.py\n@@ -1,7 +1,4 @@\n-def a():\n-    x = 1\n-    y = 2\n eval(data)\n-def b():\n-    z = 3\n-    w = 4\n+def b(arg):\n+    z = 30\n+    w = 40\n";
        let (current, absent) = states_by_diff(("app.py", BEFORE, AFTER), &[4], &[1], DIFF);
        assert_eq!(current, [(1, "unchanged")]);
        assert!(absent.is_empty());
        // Without the diff, the neighbourhood rule cannot tell: nothing around it is the same.
        let before = Listed {
            root: ROOT,
            files: &[("app.py", BEFORE)],
        };
        let after = Listed {
            root: ROOT,
            files: &[("app.py", AFTER)],
        };
        let mut baseline = dedupe(vec![finding("Trivy", "AWS-0107", "app.py", 4)]);
        hash_lines(&mut baseline, &before);
        let mut current = dedupe(vec![finding("Trivy", "AWS-0107", "app.py", 1)]);
        hash_lines(&mut current, &after);
        match_baseline(&mut current, baseline, &after, None);
        assert_eq!(current[0].state, Some(BaselineState::New));
    }

    /// A finding in a file the change renamed and did not edit is the same finding; a fixed one
    /// is shown under its old name.
    #[test]
    fn with_the_diff_a_renamed_files_findings_are_unchanged() {
        const TEXT: &str = "a = 1\nb = 2\neval(b)\n";
        let diff = "diff --git a/old.py b/new.py\nsimilarity index 100%\nrename from old.py\nrename to new.py\n";
        let before = Listed {
            root: ROOT,
            files: &[("old.py", TEXT)],
        };
        let after = Listed {
            root: ROOT,
            files: &[("new.py", TEXT)],
        };
        let mut baseline = dedupe(vec![
            finding("Trivy", "AWS-0107", "old.py", 3),
            finding("Trivy", "AWS-0107", "old.py", 1),
        ]);
        hash_lines(&mut baseline, &before);
        let mut current = dedupe(vec![finding("Trivy", "AWS-0107", "new.py", 3)]);
        hash_lines(&mut current, &after);
        let change = Change::from_git_diff(diff).unwrap();
        let absent = match_baseline(&mut current, baseline, &after, Some(&change));
        assert_eq!(current[0].state, Some(BaselineState::Unchanged));
        assert_eq!(absent.len(), 1);
        assert_eq!(absent[0].finding.location.path.as_deref(), Some("old.py"));
        assert_eq!(absent[0].finding.location.start_line, Some(1));
    }

    #[test]
    fn a_new_open_port_appended_at_the_end_is_new() {
        let appended = r#"resource "aws_security_group" "web" {
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    from_port   = 3389
    to_port     = 3389
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"#;
        let (current, absent) = states(GROUP, &[6, 12], appended, &[12, 18]);
        assert_eq!(current, [(12, "unchanged"), (18, "new")]);
        assert_eq!(absent, [6]);
    }

    #[test]
    fn findings_on_equal_lines_are_matched_in_order_when_a_block_is_inserted() {
        // Every `ingress {` line reads the same; a block goes in between the two.
        let (current, absent) = states(GROUP, &[2, 8], NARROWED_AND_RDP, &[2, 8, 14]);
        assert_eq!(current, [(2, "unchanged"), (8, "new"), (14, "unchanged")]);
        assert!(absent.is_empty());
    }

    #[test]
    fn lines_moving_down_and_a_comment_above_keep_findings_matched() {
        let before = "import os\n\ndef run(command):\n    os.system(command)\n\ndef again(command):\n    os.system(command)\n";
        let after = "\"\"\"Docs.\"\"\"\nimport os\n\n\ndef run(command):\n    # why\n    os.system(command)\n\ndef again(command):\n    os.system(command)\n\ndef third(x):\n    os.system(x)\n";
        let (current, absent) = states(before, &[4, 7], after, &[7, 10, 13]);
        assert_eq!(current, [(7, "unchanged"), (10, "unchanged"), (13, "new")]);
        assert!(absent.is_empty());
    }

    #[test]
    fn without_neighbourhoods_only_the_same_line_and_message_match() {
        let baseline = dedupe(vec![
            finding("Trivy", "AWS-0107", "gone.tf", 3),
            finding("Trivy", "AWS-0107", "gone.tf", 9),
        ]);
        let mut current = dedupe(vec![
            finding("Trivy", "AWS-0107", "gone.tf", 3),
            finding("Trivy", "AWS-0107", "gone.tf", 10),
        ]);
        let absent = match_baseline(&mut current, baseline, &NoWorkspace, None);
        assert_eq!(current[0].state, Some(BaselineState::Unchanged));
        assert_eq!(current[1].state, Some(BaselineState::New), "in doubt: new");
        assert_eq!(absent.len(), 1);
    }

    #[test]
    fn neighbourhoods_survive_their_text_form() {
        let lines = FileLines::new("a\n\nb\nc\n  d\n");
        let around = lines.neighbourhood(2, CONTEXT_LINES);
        assert_eq!(around.above.len(), 3);
        assert_eq!(around.above[1], None, "past the first line");
        assert_eq!(Neighbourhood::decode(&around.encode()), Some(around));
        assert_eq!(Neighbourhood::decode("zz/--"), None);
    }

    #[test]
    fn one_scan_in_two_formats_is_one_finding() {
        // Trivy's SARIF gives `startColumn: 1`, its JSON no column; Semgrep's SARIF says
        // `Semgrep OSS`, its JSON (read as `Semgrep`) nothing.
        let mut sarif = finding("Trivy", "AWS-0107", "a.tf", 6);
        sarif.location.start_column = Some(1);
        let json = finding("trivy", "AWS-0107", "a.tf", 6);
        let mut other_column = finding("Trivy", "AWS-0107", "a.tf", 6);
        other_column.location.start_column = Some(9);
        let mut also = finding("Trivy", "AWS-0107", "a.tf", 6);
        also.location.start_column = Some(9);
        let merged = dedupe(vec![
            sarif,
            json,
            other_column,
            also,
            finding("Semgrep OSS", "no-eval", "a.py", 2),
            finding("Semgrep", "no-eval", "a.py", 2),
        ]);
        let summary: Vec<(String, Option<u32>)> = merged
            .iter()
            .map(|entry| {
                (
                    entry.finding.rule_id.clone(),
                    entry.finding.location.start_column,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("AWS-0107".to_owned(), Some(1)),
                ("AWS-0107".to_owned(), Some(9)),
                ("no-eval".to_owned(), None)
            ]
        );
        // Issue 27: a file-level misconfiguration is on no line in Trivy's JSON and on line 1
        // (column 1) in its SARIF — one finding, not two.
        let mut json = finding("trivy", "DS002", "Dockerfile", 1);
        json.location.start_line = None;
        let mut sarif = finding("Trivy", "DS002", "Dockerfile", 1);
        sarif.location.start_column = Some(1);
        let merged = dedupe(vec![json, sarif]);
        assert_eq!(merged.len(), 1, "{merged:?}");
        assert_eq!(merged[0].tools.len(), 2);
    }

    #[test]
    fn baseline_matching_survives_moves_and_tells_fixed_from_new() {
        let before = Listed {
            root: ROOT,
            files: &[("a.py", "import os\nos.system(a)\nos.system(b)\n")],
        };
        let after = Listed {
            root: ROOT,
            files: &[("a.py", "import os\n\n\nos.system(b)\nos.system(c)\n")],
        };
        let mut baseline = dedupe(vec![
            finding("Bandit", "B605", "a.py", 2),
            finding("Bandit", "B605", "a.py", 3),
        ]);
        hash_lines(&mut baseline, &before);
        let mut current = dedupe(vec![
            finding("Bandit", "B605", "a.py", 4),
            finding("Bandit", "B605", "a.py", 5),
        ]);
        hash_lines(&mut current, &after);
        let absent = match_baseline(&mut current, baseline, &after, None);
        assert_eq!(
            current[0].state,
            Some(BaselineState::Unchanged),
            "moved from line 3 to 4"
        );
        assert_eq!(
            current[1].state,
            Some(BaselineState::New),
            "os.system(c) was added"
        );
        assert_eq!(absent.len(), 1);
        assert_eq!(
            absent[0].finding.location.start_line,
            Some(2),
            "os.system(a) was fixed"
        );
    }

    #[test]
    fn a_dependency_at_another_version_is_updated() {
        let baseline = dedupe(vec![dependency(
            "Trivy",
            "CVE-1",
            "openssl",
            "1.1",
            Severity::High,
        )]);
        let mut current = dedupe(vec![
            dependency("Trivy", "CVE-1", "openssl", "1.2", Severity::High),
            dependency("Trivy", "CVE-2", "openssl", "1.2", Severity::High),
        ]);
        let absent = match_baseline(&mut current, baseline, &NoWorkspace, None);
        assert_eq!(current[0].state, Some(BaselineState::Updated));
        assert_eq!(current[1].state, Some(BaselineState::New));
        assert!(absent.is_empty());
    }
}
