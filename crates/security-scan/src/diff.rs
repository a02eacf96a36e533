//! How a change moved each file's lines, from its unified diff — `git diff` of the checkout, or
//! the `patch` of each file a pull request lists — so a finding is matched against the baseline
//! by the line it was on before the change, not by what surrounds it.
//!
//! A line the diff leaves as it was has a line on the base side; a line it adds has none. A file
//! the diff does not name is unchanged; a file whose patch is not known (GitHub leaves it out of
//! large files) is matched the old way, by neighbourhood.

use std::collections::{BTreeMap, BTreeSet};

/// Where a current line was before the change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapped {
    /// The same line, at this path and line of the base.
    Same(String, u32),
    /// A line the change added (or rewrote): it was not in the base.
    Added,
    /// The diff does not say (the file's patch is not known).
    Unknown,
}

/// One file's change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct FileChange {
    /// Its path in the base (`None`: the change adds it).
    base: Option<String>,
    /// The patch is not known: nothing can be said of its lines.
    unknown: bool,
    /// Its hunks, in order.
    hunks: Vec<Hunk>,
}

/// One hunk of a file's patch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Hunk {
    /// Its first current line.
    start: u32,
    /// For each current line it spans, the base line (`None`: added).
    lines: Vec<Option<u32>>,
    /// Lines added less lines removed.
    shift: i64,
    /// The next base line (while reading).
    old_line: u32,
}

/// The change of every file a diff names, by current path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Change {
    files: BTreeMap<String, FileChange>,
    /// Base paths of the files the change deletes or renames away.
    gone: BTreeSet<String>,
    /// Current paths by base path, for the files the change renames.
    renamed: BTreeMap<String, String>,
}

/// A file a pull request lists (`GET /pulls/{n}/files`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFile {
    /// `filename`.
    pub filename: String,
    /// `previous_filename`, for a renamed file.
    pub previous_filename: Option<String>,
    /// `status`: `added`, `removed`, `modified`, `renamed`, `copied`, `changed`, `unchanged`.
    pub status: String,
    /// `patch`, when GitHub gives one.
    pub patch: Option<String>,
}

fn number(text: &str) -> Result<u32, String> {
    text.parse()
        .map_err(|_| format!("`{text}` is not a line number"))
}

/// `-a,b +c,d` of a hunk header: the base start and the current start.
fn hunk_header(line: &str) -> Result<(u32, u32), String> {
    let inner = line
        .strip_prefix("@@ ")
        .and_then(|rest| rest.split(" @@").next())
        .ok_or_else(|| format!("`{line}` is not a hunk header"))?;
    let mut parts = inner.split_whitespace();
    let range = |part: Option<&str>, sign: char| -> Result<(u32, u32), String> {
        let part = part
            .and_then(|p| p.strip_prefix(sign))
            .ok_or_else(|| format!("`{line}` is not a hunk header"))?;
        match part.split_once(',') {
            Some((start, length)) => Ok((number(start)?, number(length)?)),
            None => Ok((number(part)?, 1)),
        }
    };
    let (old_start, _) = range(parts.next(), '-')?;
    let (new_start, _) = range(parts.next(), '+')?;
    Ok((old_start, new_start))
}

/// The hunks of one file's patch text (what follows its `+++` line, or a pull request file's
/// `patch`).
fn hunks(patch: &str) -> Result<Vec<Hunk>, String> {
    let mut hunks: Vec<Hunk> = Vec::new();
    for (index, line) in patch.lines().enumerate() {
        if line.starts_with("@@") {
            let (old_start, new_start) =
                hunk_header(line).map_err(|error| format!("line {}: {error}", index + 1))?;
            hunks.push(Hunk {
                start: new_start,
                old_line: old_start,
                ..Hunk::default()
            });
            continue;
        }
        let Some(hunk) = hunks.last_mut() else {
            continue;
        };
        match line.chars().next() {
            Some('+') => {
                hunk.lines.push(None);
                hunk.shift += 1;
            }
            Some('-') => {
                hunk.old_line += 1;
                hunk.shift -= 1;
            }
            Some('\\') => {}
            // A context line (a blank one may have lost its leading space).
            _ => {
                hunk.lines.push(Some(hunk.old_line));
                hunk.old_line += 1;
            }
        }
    }
    Ok(hunks)
}

fn strip_side(path: &str, side: &str) -> Option<String> {
    if path == "/dev/null" {
        return None;
    }
    let path = path.split('\t').next().unwrap_or(path);
    Some(path.strip_prefix(side).unwrap_or(path).to_owned())
}

impl Change {
    /// Reads `git diff` output (any number of files; renames, additions, deletions).
    ///
    /// # Errors
    /// A hunk header that does not parse, with the line.
    pub fn from_git_diff(text: &str) -> Result<Self, String> {
        let mut change = Self::default();
        // Each file's section: from its `diff --git` line to the next.
        let mut sections: Vec<Vec<&str>> = Vec::new();
        for line in text.lines() {
            if line.starts_with("diff --git ") || sections.is_empty() {
                sections.push(Vec::new());
            }
            if let Some(section) = sections.last_mut() {
                section.push(line);
            }
        }
        for section in sections {
            let (mut base, mut current) = (None, None);
            let mut renamed_from = None;
            let mut body = Vec::new();
            let mut in_hunks = false;
            for line in &section {
                if in_hunks {
                    body.push(*line);
                } else if let Some(path) = line.strip_prefix("--- ") {
                    base = Some(strip_side(path, "a/"));
                } else if let Some(path) = line.strip_prefix("+++ ") {
                    current = Some(strip_side(path, "b/"));
                } else if let Some(path) = line.strip_prefix("rename from ") {
                    renamed_from = Some(path.to_owned());
                } else if let Some(path) = line.strip_prefix("rename to ") {
                    current = Some(Some(path.to_owned()));
                    base = Some(renamed_from.clone());
                } else if line.starts_with("@@") {
                    in_hunks = true;
                    body.push(*line);
                }
            }
            let (Some(base), Some(current)) = (base, current) else {
                continue;
            };
            let hunks = hunks(&body.join("\n"))?;
            match current {
                None => change.gone.extend(base),
                Some(current) => {
                    if let Some(base) = &base {
                        if *base != current {
                            change.gone.insert(base.clone());
                            change.renamed.insert(base.clone(), current.clone());
                        }
                    }
                    change.files.insert(
                        current,
                        FileChange {
                            base,
                            unknown: false,
                            hunks,
                        },
                    );
                }
            }
        }
        Ok(change)
    }

    /// Reads the files a pull request lists, each with its `patch` when GitHub gave one.
    ///
    /// # Errors
    /// A patch whose hunk header does not parse, naming the file.
    pub fn from_pull_request(files: &[ListedFile]) -> Result<Self, String> {
        let mut change = Self::default();
        for file in files {
            if file.status == "removed" {
                change.gone.insert(file.filename.clone());
                continue;
            }
            let base = match file.status.as_str() {
                "added" => None,
                "renamed" => file.previous_filename.clone(),
                _ => Some(file.filename.clone()),
            };
            if let Some(base) = &base {
                if *base != file.filename {
                    change.gone.insert(base.clone());
                    change.renamed.insert(base.clone(), file.filename.clone());
                }
            }
            let (unknown, hunks) = match &file.patch {
                Some(patch) => (
                    false,
                    hunks(patch).map_err(|error| format!("{}: {error}", file.filename))?,
                ),
                // A rename without edits has no patch and moves no line; a large file's patch
                // is left out.
                None => (file.status != "renamed", Vec::new()),
            };
            change.files.insert(
                file.filename.clone(),
                FileChange {
                    base,
                    unknown,
                    hunks,
                },
            );
        }
        Ok(change)
    }

    /// Where line `line` (1-based) of the current file `path` was in the base.
    #[must_use]
    pub fn base_line(&self, path: &str, line: u32) -> Mapped {
        let Some(file) = self.files.get(path) else {
            return Mapped::Same(path.to_owned(), line);
        };
        if file.unknown {
            return Mapped::Unknown;
        }
        let Some(base) = &file.base else {
            return Mapped::Added;
        };
        let mut shift: i64 = 0;
        for hunk in &file.hunks {
            let end = hunk.start + u32::try_from(hunk.lines.len()).unwrap_or(u32::MAX);
            if line < hunk.start {
                break;
            }
            if line < end {
                return match hunk.lines[usize::try_from(line - hunk.start).unwrap_or(0)] {
                    Some(old) => Mapped::Same(base.clone(), old),
                    None => Mapped::Added,
                };
            }
            shift += hunk.shift;
        }
        match u32::try_from(i64::from(line) - shift) {
            Ok(old) if old > 0 => Mapped::Same(base.clone(), old),
            _ => Mapped::Unknown,
        }
    }

    /// The current path of a base path: itself, or where the change renamed it; `None` when the
    /// change deleted it.
    #[must_use]
    pub fn current_path(&self, base: &str) -> Option<String> {
        if let Some(current) = self.renamed.get(base) {
            return Some(current.clone());
        }
        if self.gone.contains(base) {
            return None;
        }
        Some(base.to_owned())
    }

    /// Whether the change's lines of `path` are known (a file it does not name is unchanged).
    #[must_use]
    pub fn knows(&self, path: &str) -> bool {
        self.files.get(path).is_none_or(|file| !file.unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `git diff --cached -M` (git 2.47.3) of a change that deletes a function above an untouched
    /// call and adds a call below it, renames a file and adds one.
    const GIT_DIFF: &str = r#"diff --git a/added.py b/added.py
new file mode 100644
index 0000000..be6b9c5
--- /dev/null
+++ b/added.py
@@ -0,0 +1,2 @@
+import os
+os.system("x")
diff --git a/app.py b/app.py
index 4f51094..caafd50 100644
--- a/app.py
+++ b/app.py
@@ -1,14 +1,11 @@
 import subprocess
 
 
-def unused():
-    return 1
-
-
 def run(command):
     subprocess.call(command, shell=True)
 
 
 def main():
     run("ls")
+    run("id")
     return 0
diff --git a/old.py b/new.py
similarity index 100%
rename from old.py
rename to new.py
"#;

    /// The same change of `app.py` with one line of context (`-U1`): two hunks.
    const TWO_HUNKS: &str = r#"diff --git a/app.py b/app.py
index 4f51094..caafd50 100644
--- a/app.py
+++ b/app.py
@@ -3,6 +3,2 @@ import subprocess
 
-def unused():
-    return 1
-
-
 def run(command):
@@ -13,2 +9,3 @@ def main():
     run("ls")
+    run("id")
     return 0
"#;

    /// Where each of the 11 lines of the changed `app.py` was (0: added).
    const APP: [u32; 12] = [1, 2, 3, 8, 9, 10, 11, 12, 13, 0, 14, 15];

    fn mapped(change: &Change, path: &str) -> Vec<u32> {
        (1..=12)
            .map(|line| match change.base_line(path, line) {
                Mapped::Same(base, old) => {
                    assert_eq!(base, "app.py");
                    old
                }
                Mapped::Added => 0,
                Mapped::Unknown => u32::MAX,
            })
            .collect()
    }

    #[test]
    fn every_current_line_is_mapped_to_its_base_line_or_added() {
        for text in [GIT_DIFF, TWO_HUNKS] {
            let change = Change::from_git_diff(text).unwrap();
            // The untouched call (line 5) was line 9, five lines further down.
            assert_eq!(mapped(&change, "app.py"), APP);
        }
        let change = Change::from_git_diff(GIT_DIFF).unwrap();
        assert_eq!(
            change.base_line("new.py", 3),
            Mapped::Same("old.py".to_owned(), 3)
        );
        assert_eq!(change.base_line("added.py", 1), Mapped::Added);
        assert_eq!(
            change.base_line("other.py", 5),
            Mapped::Same("other.py".to_owned(), 5)
        );
        assert_eq!(change.current_path("old.py").as_deref(), Some("new.py"));
        assert_eq!(change.current_path("app.py").as_deref(), Some("app.py"));
    }

    #[test]
    fn a_pull_requests_files_say_the_same_and_a_missing_patch_says_nothing() {
        // GitHub's `patch` is the file's hunks alone.
        let patch = TWO_HUNKS.split_once("+++ b/app.py\n").unwrap().1;
        let listed = |filename: &str, previous: Option<&str>, status: &str, patch: Option<&str>| {
            ListedFile {
                filename: filename.to_owned(),
                previous_filename: previous.map(str::to_owned),
                status: status.to_owned(),
                patch: patch.map(str::to_owned),
            }
        };
        let change = Change::from_pull_request(&[
            listed("app.py", None, "modified", Some(patch)),
            listed("new.py", Some("old.py"), "renamed", None),
            listed("big.sql", None, "modified", None),
            listed("gone.py", None, "removed", None),
        ])
        .unwrap();
        assert_eq!(mapped(&change, "app.py"), APP);
        assert_eq!(
            change.base_line("new.py", 3),
            Mapped::Same("old.py".to_owned(), 3)
        );
        assert_eq!(change.base_line("big.sql", 3), Mapped::Unknown);
        assert!(!change.knows("big.sql") && change.knows("app.py") && change.knows("x.py"));
        assert_eq!(change.current_path("gone.py"), None);
        let broken =
            Change::from_pull_request(&[listed("a", None, "modified", Some("@@ -x +1 @@"))]);
        assert!(broken.unwrap_err().starts_with("a: line 1"));
    }
}
