//! The binary's side of each action: read what the inputs name (files, globs, binary plans
//! through `terraform show`), then call the action's sans-IO crate.

pub mod baseline;
pub mod canary_verify;
pub mod drift_report;
pub mod helm_deploy;
pub mod quality_gate;
pub mod security_scan;
pub mod terraform_plan;

use std::path::{Path, PathBuf};

use gantry_core::workspace::Workspace;

use crate::invocation::{ActionFailure, Invocation};

/// What to say when a line names nothing: several paths put on one line, each of which exists
/// or matches, are one path a line (or a flag repeated).
fn several_on_one_line(invocation: &Invocation, input: &str, pattern: &str) -> Option<String> {
    let words: Vec<&str> = pattern
        .split([' ', ',', '\t'])
        .filter(|w| !w.is_empty())
        .collect();
    let named = |word: &&str| {
        let path = invocation.resolve(word);
        path.exists()
            || (word.contains(['*', '?', '['])
                && glob::glob(&path.to_string_lossy())
                    .is_ok_and(|mut paths| paths.any(|p| p.is_ok())))
    };
    (words.len() > 1 && words.iter().all(named)).then(|| {
        format!(
            "{input}: `{pattern}` is {} paths on one line: give one a line (`{input}: |` and a line each), or repeat `--{input}` when running locally",
            words.len()
        )
    })
}

/// Expands one path-or-glob input line against the workspace. A plain path must exist; a glob
/// must match at least one file. Results are sorted, workspace-relative where possible.
pub fn expand(
    invocation: &Invocation,
    input: &str,
    pattern: &str,
) -> Result<Vec<(String, PathBuf)>, ActionFailure> {
    expand_one(invocation, input, pattern).map_err(|failure| {
        match several_on_one_line(invocation, input, pattern) {
            Some(message) => ActionFailure::InvalidInput(message),
            None => failure,
        }
    })
}

fn expand_one(
    invocation: &Invocation,
    input: &str,
    pattern: &str,
) -> Result<Vec<(String, PathBuf)>, ActionFailure> {
    let has_glob = pattern.contains(['*', '?', '[']);
    if !has_glob {
        let path = invocation.resolve(pattern);
        if !path.exists() {
            return Err(ActionFailure::InvalidInput(format!(
                "{input}: {pattern}: no such file"
            )));
        }
        return Ok(vec![(pattern.to_owned(), path)]);
    }
    let absolute = invocation.resolve(pattern);
    let text = absolute.to_string_lossy().into_owned();
    let paths = glob::glob(&text).map_err(|error| {
        ActionFailure::InvalidInput(format!("{input}: `{pattern}` is not a valid glob: {error}"))
    })?;
    let mut found: Vec<(String, PathBuf)> = paths
        .filter_map(Result::ok)
        .filter(|path| path.is_file())
        .map(|path| (relative_to(&invocation.workspace, &path), path))
        .collect();
    found.sort();
    if found.is_empty() {
        return Err(ActionFailure::InvalidInput(format!(
            "{input}: `{pattern}` matches no file"
        )));
    }
    Ok(found)
}

/// `path` relative to `base` when it lies inside it, else as given.
pub fn relative_to(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Source files larger than this are not hashed (a generated bundle, a binary).
const MAX_HASHED_FILE: u64 = 8 * 1024 * 1024;

/// The workspace on disk, as the actions see it: its root, whether a path is one of its files,
/// and a file's text (for line hashes), never outside it.
pub struct Files {
    pub(crate) root: PathBuf,
    pub(crate) root_text: String,
}

impl Files {
    /// The invocation's workspace.
    pub fn of(invocation: &Invocation) -> Self {
        let root = invocation.workspace.clone();
        Self {
            root_text: root.to_string_lossy().trim_end_matches('/').to_owned(),
            root,
        }
    }
}

impl Files {
    /// `relative` under the root, and still under it once every symlink is followed: a report
    /// that names `link/secret` where `link` points outside the workspace reads nothing.
    fn within(&self, relative: &str) -> Option<PathBuf> {
        let path = inside(&self.root, relative)?;
        let real = std::fs::canonicalize(&path).ok()?;
        let root = std::fs::canonicalize(&self.root).ok()?;
        real.starts_with(&root).then_some(real)
    }
}

impl Workspace for Files {
    fn root(&self) -> &str {
        &self.root_text
    }

    fn is_file(&self, relative: &str) -> bool {
        self.within(relative).is_some_and(|path| path.is_file())
    }

    fn read_text(&self, relative: &str) -> Option<String> {
        let path = self.within(relative)?;
        let metadata = std::fs::metadata(&path).ok()?;
        if !metadata.is_file() || metadata.len() > MAX_HASHED_FILE {
            return None;
        }
        String::from_utf8(std::fs::read(path).ok()?).ok()
    }
}

/// `relative` under `root`, refusing `..` and absolute paths (a report must not make us read
/// outside the workspace).
fn inside(root: &Path, relative: &str) -> Option<PathBuf> {
    let relative = Path::new(relative);
    if relative.is_absolute()
        || relative.components().any(|part| {
            !matches!(
                part,
                std::path::Component::Normal(_) | std::path::Component::CurDir
            )
        })
    {
        return None;
    }
    Some(root.join(relative))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 25 §6: a report naming `link/…`, where `link` is a symlink in the workspace to a
    /// folder outside it, had its target read (and hashed into the SARIF).
    #[cfg(unix)]
    #[test]
    fn symlinks_cannot_lead_a_report_outside_the_workspace() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.py"), "API_KEY = 'x'\n").unwrap();
        let workspace = tempfile::tempdir().unwrap();
        std::fs::create_dir(workspace.path().join("src")).unwrap();
        std::fs::write(workspace.path().join("src/app.py"), "print(1)\n").unwrap();
        std::os::unix::fs::symlink(outside.path(), workspace.path().join("link")).unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("secret.py"),
            workspace.path().join("src/alias.py"),
        )
        .unwrap();
        std::os::unix::fs::symlink("app.py", workspace.path().join("src/inside.py")).unwrap();
        let files = Files {
            root: workspace.path().to_owned(),
            root_text: workspace.path().to_string_lossy().into_owned(),
        };
        assert_eq!(files.read_text("src/app.py").as_deref(), Some("print(1)\n"));
        assert_eq!(
            files.read_text("src/inside.py").as_deref(),
            Some("print(1)\n")
        );
        for escaping in ["link/secret.py", "src/alias.py"] {
            assert_eq!(files.read_text(escaping), None, "{escaping}");
            assert!(!files.is_file(escaping), "{escaping}");
        }
    }

    #[test]
    fn reports_cannot_make_us_read_outside_the_workspace() {
        let root = Path::new("/w");
        assert!(inside(root, "../etc/passwd").is_none());
        assert!(inside(root, "/etc/passwd").is_none());
        assert_eq!(
            inside(root, "./src/a.py"),
            Some(PathBuf::from("/w/./src/a.py"))
        );
    }
}
