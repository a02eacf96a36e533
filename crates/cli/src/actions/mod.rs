//! The binary's side of each action: read what the inputs name (files, globs, binary plans
//! through `terraform show`), then call the action's sans-IO crate.

pub mod quality_gate;
pub mod security_scan;
pub mod terraform_plan;

use std::path::{Path, PathBuf};

use crate::invocation::{ActionFailure, Invocation};

/// Expands one path-or-glob input line against the workspace. A plain path must exist; a glob
/// must match at least one file. Results are sorted, workspace-relative where possible.
pub fn expand(
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
