//! The workspace as an action sees it, and the one rule for the paths reports give: made
//! relative to the workspace root, whatever root the tool ran in.

/// The workspace as the action sees it: where it is, and its files' text.
pub trait Workspace {
    /// Absolute path of the workspace root (`GITHUB_WORKSPACE`), without a trailing `/`.
    fn root(&self) -> &str;
    /// Whether a workspace-relative path is a file.
    fn is_file(&self, relative: &str) -> bool;
    /// A workspace file's text, if it is one and is text.
    fn read_text(&self, relative: &str) -> Option<String>;
}

/// A workspace with no files (reports read on their own: tests, benchmarks, a WASI host):
/// paths are still made relative to `/github/workspace`, nothing is hashed.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoWorkspace;

impl Workspace for NoWorkspace {
    fn root(&self) -> &'static str {
        "/github/workspace"
    }
    fn is_file(&self, _: &str) -> bool {
        false
    }
    fn read_text(&self, _: &str) -> Option<String> {
        None
    }
}

/// Roots tools commonly report from when they run in a container or on another checkout.
const FOREIGN_ROOTS: [&str; 3] = ["/github/workspace/", "/src/", "/code/"];

/// A path as a workspace-relative URI path, and whether it had to be guessed. Relative paths are
/// kept; absolute ones lose the workspace root, a known container root, or else as many leading
/// folders as it takes to name a workspace file; failing all that the path is kept, made
/// relative, and flagged.
pub fn relative_path(path: &str, workspace: &dyn Workspace) -> (String, bool) {
    let path = path.replace('\\', "/");
    let path = path.strip_prefix("file://").unwrap_or(&path);
    // `file:///C:/x` and `/C:/x`.
    let path = if path.len() > 3 && path.as_bytes()[0] == b'/' && path.as_bytes()[2] == b':' {
        &path[1..]
    } else {
        path
    };
    let root = format!("{}/", workspace.root().trim_end_matches('/'));
    if let Some(inside) = path.strip_prefix(&root) {
        return (inside.to_owned(), false);
    }
    let is_absolute = path.starts_with('/') || path.get(1..3) == Some(":/");
    if !is_absolute {
        return (path.trim_start_matches("./").to_owned(), false);
    }
    for foreign in FOREIGN_ROOTS {
        if let Some(inside) = path.strip_prefix(foreign) {
            if workspace.is_file(inside) {
                return (inside.to_owned(), false);
            }
        }
    }
    let parts: Vec<&str> = path.split('/').filter(|part| !part.is_empty()).collect();
    for start in 1..parts.len() {
        let candidate = parts[start..].join("/");
        if workspace.is_file(&candidate) {
            return (candidate, false);
        }
    }
    (parts.join("/"), true)
}

/// A workspace known only by where it is: paths are made relative to its root, no file is
/// known (reports read on their own, tests).
#[derive(Debug, Clone, Copy)]
pub struct Root<'a>(pub &'a str);

impl Workspace for Root<'_> {
    fn root(&self) -> &str {
        self.0
    }
    fn is_file(&self, _: &str) -> bool {
        false
    }
    fn read_text(&self, _: &str) -> Option<String> {
        None
    }
}

/// A workspace of listed files held in memory: its root, and each file's path and text (tests;
/// a host without a file system).
#[derive(Debug, Clone, Copy)]
pub struct Listed<'a> {
    /// The root, as reports name it.
    pub root: &'a str,
    /// Workspace-relative path and text of each file.
    pub files: &'a [(&'a str, &'a str)],
}

impl Workspace for Listed<'_> {
    fn root(&self) -> &str {
        self.root
    }
    fn is_file(&self, relative: &str) -> bool {
        self.files.iter().any(|(path, _)| *path == relative)
    }
    fn read_text(&self, relative: &str) -> Option<String> {
        self.files
            .iter()
            .find(|(path, _)| *path == relative)
            .map(|(_, text)| (*text).to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_paths_become_workspace_relative() {
        let files = Listed {
            root: "/srv/checkout/app",
            files: &[("src/app.py", ""), ("modules/vpc/main.tf", "")],
        };
        assert_eq!(
            relative_path("/srv/checkout/app/src/app.py", &files),
            ("src/app.py".into(), false)
        );
        assert_eq!(
            relative_path("file:///github/workspace/src/app.py", &files),
            ("src/app.py".into(), false)
        );
        assert_eq!(
            relative_path("./src/app.py", &files),
            ("src/app.py".into(), false)
        );
        assert_eq!(
            relative_path("/tmp/checkout/modules/vpc/main.tf", &files),
            ("modules/vpc/main.tf".into(), false)
        );
        assert_eq!(
            relative_path("/usr/lib/libssl.so", &files),
            ("usr/lib/libssl.so".into(), true)
        );
        assert_eq!(
            relative_path("C:\\work\\src\\app.py", &files),
            ("src/app.py".into(), false)
        );
    }
}
