//! Where a failed test failed, read from its traceback when the report gives no file and line
//! (the `JUnit` of pytest, Jest and Go): pytest's `tests/test_app.py:25: AssertionError`, Python's
//! `File "…", line 24`, JavaScript's `at f (src/app.test.js:10:21)`, Go's `app_test.go:12:`.
//! Frames in installed packages (`node_modules`, `site-packages`) and the runtime's own are
//! passed over; among the rest, a frame in a test file is preferred (that is where a reviewer
//! looks), else the first.

/// A frame: path as written, and line.
type Frame = (String, u32);

fn number(text: &str) -> Option<u32> {
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|line| *line > 0)
}

/// A path-like token: has an extension and no spaces.
fn looks_like_source(path: &str) -> bool {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    !path.is_empty()
        && !path.contains(' ')
        && name
            .rsplit_once('.')
            .is_some_and(|(stem, extension)| !stem.is_empty() && (1..=6).contains(&extension.len()))
}

fn installed(path: &str) -> bool {
    let path = path.replace('\\', "/");
    [
        "node_modules/",
        "site-packages/",
        "dist-packages/",
        "/usr/lib/",
        "internal/",
        "<",
    ]
    .iter()
    .any(|part| path.contains(part))
        || path.starts_with("node:")
}

/// `path:line` at the end of `text` (`…main.test.js:10:21` or `…app.py:25`), the line the
/// first number after the path.
fn path_and_line(text: &str) -> Option<Frame> {
    // Split from the right: `C:\x\y.js:10:21` holds a drive colon too.
    let mut parts: Vec<&str> = text.rsplitn(3, ':').collect();
    parts.reverse();
    let (path, line) = match parts.as_slice() {
        [path, line, column] if number(column).is_some() && number(line).is_some() => {
            (*path, number(line)?)
        }
        [head, path_tail, line] if number(line).is_some() => {
            // `C:\x\y.py:25`: the drive split off.
            let path = format!("{head}:{path_tail}");
            return looks_like_source(&path).then(|| (path, number(line).unwrap_or(1)));
        }
        [path, line] => (*path, number(line)?),
        _ => return None,
    };
    looks_like_source(path).then(|| (path.to_owned(), line))
}

fn frames(details: &str) -> Vec<Frame> {
    let mut found = Vec::new();
    for line in details.lines() {
        let trimmed = line.trim();
        // Python: `File "path", line 24, in test`.
        if let Some(rest) = trimmed.strip_prefix("File \"") {
            if let Some((path, after)) = rest.split_once("\", line ") {
                if let Some(line) = number(after) {
                    found.push((path.to_owned(), line));
                }
            }
            continue;
        }
        // JavaScript: `at f (path:line:column)` or `at path:line:column`.
        if let Some(rest) = trimmed.strip_prefix("at ") {
            let inner = rest
                .rsplit_once('(')
                .map_or(rest, |(_, inside)| inside.trim_end_matches(')'));
            if let Some(frame) = path_and_line(inner) {
                found.push(frame);
            }
            continue;
        }
        // pytest (`tests/test_lib.py:25: AssertionError`) and Go (`app_test.go:12: want 2`).
        if let Some((location, _)) = trimmed.split_once(": ") {
            if let Some(frame) = path_and_line(location) {
                found.push(frame);
            }
        }
    }
    found
}

fn is_test_file(path: &str) -> bool {
    let name = path
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(path)
        .to_ascii_lowercase();
    name.contains("test") || name.contains("spec") || path.contains("__tests__")
}

/// The frame to annotate, as written in the traceback.
pub(crate) fn failure_place(details: &str) -> Option<Frame> {
    let frames: Vec<Frame> = frames(details)
        .into_iter()
        .filter(|(path, _)| !installed(path))
        .collect();
    // Python prints the innermost frame last; the others innermost first. The test's own
    // frame is the one in a test file either way: the last such in Python, the first else.
    let python = details.contains("Traceback (most recent call last)");
    let mut tests = frames.iter().filter(|(path, _)| is_test_file(path));
    let test = if python {
        tests.next_back()
    } else {
        tests.next()
    };
    test.or_else(|| frames.first()).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_of_each_runner_are_read() {
        assert_eq!(
            failure_place(
                "def test_x():\n>       assert False\nE       assert False\n\ntests/test_lib.py:25: AssertionError"
            ),
            Some(("tests/test_lib.py".into(), 25))
        );
        assert_eq!(
            failure_place(
                "Error: boom\n    at Object.throwError (C:\\w\\lib\\main.js:2:9)\n    at Object.<anonymous> (C:\\w\\__tests__\\main.test.js:14:11)\n    at x (C:\\w\\node_modules\\jest\\a.js:1:1)"
            ),
            Some(("C:\\w\\__tests__\\main.test.js".into(), 14))
        );
        assert_eq!(
            failure_place(
                "Traceback (most recent call last):\n  File \"/w/tests/test_a.py\", line 9, in test_a\n    helper()\n  File \"/w/app/helper.py\", line 3, in helper\n    raise ValueError\nValueError"
            ),
            Some(("/w/tests/test_a.py".into(), 9))
        );
        assert_eq!(
            failure_place("    calc_test.go:12: got 3, want 4"),
            Some(("calc_test.go".into(), 12))
        );
        // Only installed frames, or prose with colons: nothing.
        assert_eq!(failure_place("at x (node_modules/a/b.js:1:2)"), None);
        assert_eq!(failure_place("expected: 4\nreceived: 5"), None);
    }
}
