//! The real `hashicorp/aws` provider against moto: a moto server on 127.0.0.1 (from the venv
//! `scripts/test.sh` fills), the provider's local filesystem mirror found on this machine, and a
//! Terraform CLI configuration that installs from it and nowhere else.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A moto server; stopped when dropped.
#[derive(Debug)]
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

impl Moto {
    /// Starts moto on a free port and waits until it answers.
    ///
    /// # Panics
    /// When moto is not installed or does not come up within 30 s.
    pub fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|address| address.port())
            .expect("a free port");
        let child = Command::new(crate::python_tool("moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let moto = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "moto did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The folder of a Terraform filesystem mirror holding `registry.terraform.io/hashicorp/aws`:
/// `$GANTRY_TF_PLUGIN_MIRROR` when set, else the first found a few levels under the usual
/// roots (`/opt`, `/usr/local/share`, `/usr/share`, `~/.terraform.d`, `~/.local/share`).
///
/// # Panics
/// When there is none: the drift tests need the real provider (it cannot be downloaded here).
pub fn provider_mirror() -> PathBuf {
    if let Some(dir) = std::env::var_os("GANTRY_TF_PLUGIN_MIRROR") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let roots = [
        PathBuf::from("/opt"),
        PathBuf::from("/usr/local/share"),
        PathBuf::from("/usr/share"),
        home.join(".terraform.d"),
        home.join(".local/share"),
    ];
    for root in &roots {
        if let Some(found) = find_mirror(root, 3) {
            return found;
        }
    }
    panic!(
        "no filesystem mirror with registry.terraform.io/hashicorp/aws under {roots:?}; set GANTRY_TF_PLUGIN_MIRROR to the folder that holds registry.terraform.io"
    );
}

fn find_mirror(dir: &Path, depth: u32) -> Option<PathBuf> {
    if dir.join("registry.terraform.io/hashicorp/aws").is_dir() {
        return Some(dir.to_owned());
    }
    if depth == 0 {
        return None;
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    entries.sort();
    entries
        .into_iter()
        .find_map(|path| find_mirror(&path, depth - 1))
}

/// Writes a CLI configuration that installs `hashicorp/aws` from the mirror only, and returns
/// its path (for `TF_CLI_CONFIG_FILE`).
///
/// # Panics
/// When the file cannot be written.
pub fn cli_config(dir: &Path) -> PathBuf {
    let mirror = provider_mirror();
    let path = dir.join(".terraformrc");
    std::fs::write(
        &path,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path    = {}\n    include = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n  direct {{\n    exclude = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n}}\n",
            serde_json::Value::String(mirror.to_string_lossy().into_owned())
        ),
    )
    .expect("write the terraform CLI configuration");
    path
}
