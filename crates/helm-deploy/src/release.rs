//! Helm's release records, read the way Helm stores them: one Secret per revision, named
//! `sh.helm.release.v1.<name>.v<revision>`, of type `helm.sh/release.v1`, labelled
//! `owner=helm,name=<name>,status=<status>,version=<revision>`, whose `release` key holds
//! base64(gzip(JSON)) (`helm/pkg/storage/driver/secrets.go`, `util.go`). Reading them needs no
//! `helm` and no cluster permission beyond Secrets in the release's namespace.

use std::io::Read as _;

use base64::Engine as _;
use k8s_openapi::api::core::v1::Secret;
use serde::Deserialize;

/// The Secret type Helm gives its release records.
pub const SECRET_TYPE: &str = "helm.sh/release.v1";

/// The label selector of a release's records.
#[must_use]
pub fn selector(release: &str) -> String {
    format!("owner=helm,name={release}")
}

/// The Secret holding one revision.
#[must_use]
pub fn secret_name(release: &str, revision: u32) -> String {
    format!("sh.helm.release.v1.{release}.v{revision}")
}

/// A release's status (`helm/pkg/release/common/status.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Unknown to Helm.
    Unknown,
    /// Serving.
    Deployed,
    /// Removed, history kept.
    Uninstalled,
    /// Replaced by a later revision.
    Superseded,
    /// Failed.
    Failed,
    /// Being removed.
    Uninstalling,
    /// An install in progress, or one whose process died.
    PendingInstall,
    /// An upgrade in progress, or one whose process died.
    PendingUpgrade,
    /// A rollback in progress, or one whose process died.
    PendingRollback,
}

impl Status {
    /// Helm's word.
    #[must_use]
    pub const fn word(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Deployed => "deployed",
            Self::Uninstalled => "uninstalled",
            Self::Superseded => "superseded",
            Self::Failed => "failed",
            Self::Uninstalling => "uninstalling",
            Self::PendingInstall => "pending-install",
            Self::PendingUpgrade => "pending-upgrade",
            Self::PendingRollback => "pending-rollback",
        }
    }

    fn parse(word: &str) -> Option<Self> {
        [
            Self::Unknown,
            Self::Deployed,
            Self::Uninstalled,
            Self::Superseded,
            Self::Failed,
            Self::Uninstalling,
            Self::PendingInstall,
            Self::PendingUpgrade,
            Self::PendingRollback,
        ]
        .into_iter()
        .find(|status| status.word() == word)
    }

    /// An operation holds the release: Helm refuses another until it ends — forever, when the
    /// process running it was killed.
    #[must_use]
    pub const fn pending(self) -> bool {
        matches!(
            self,
            Self::PendingInstall | Self::PendingUpgrade | Self::PendingRollback
        )
    }
}

/// One revision of a release.
#[derive(Debug, Clone, PartialEq)]
pub struct Release {
    /// The release's name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// The revision.
    pub revision: u32,
    /// Its status.
    pub status: Status,
    /// The chart's name.
    pub chart: String,
    /// The chart's version.
    pub chart_version: String,
    /// The chart's `appVersion`, if it has one.
    pub app_version: Option<String>,
    /// The user-supplied values of this revision.
    pub values: serde_json::Value,
    /// The rendered manifest (hooks are kept apart by Helm and not in it).
    pub manifest: String,
    /// Helm's description of the revision ("Upgrade complete", the error of a failed one).
    pub description: String,
    /// The revision's hooks (Helm keeps them apart from the manifest).
    pub hooks: Vec<Hook>,
}

/// One hook of a revision.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Hook {
    /// The object's name.
    #[serde(default)]
    pub name: String,
    /// Its kind (`Job`, `Pod`…).
    #[serde(default)]
    pub kind: String,
    /// When it runs: `pre-install`, `post-upgrade`, `test`…
    #[serde(default)]
    pub events: Vec<String>,
}

/// A release record that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Secret {secret}: {problem}")]
pub struct DecodeError {
    /// The Secret's name.
    pub secret: String,
    /// What is wrong.
    pub problem: String,
}

#[derive(Deserialize)]
struct Record {
    name: String,
    #[serde(default)]
    namespace: String,
    version: u32,
    #[serde(default)]
    info: Info,
    #[serde(default)]
    chart: Option<Chart>,
    #[serde(default)]
    config: Option<serde_json::Value>,
    #[serde(default)]
    manifest: String,
    #[serde(default)]
    hooks: Option<Vec<Hook>>,
}

#[derive(Deserialize, Default)]
struct Info {
    #[serde(default)]
    status: String,
    #[serde(default)]
    description: String,
}

#[derive(Deserialize)]
struct Chart {
    metadata: Metadata,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default, rename = "appVersion")]
    app_version: Option<String>,
}

const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

/// Decodes one release Secret.
pub fn decode(secret: &Secret) -> Result<Release, DecodeError> {
    let name = secret.metadata.name.clone().unwrap_or_default();
    let fail = |problem: String| DecodeError {
        secret: name.clone(),
        problem,
    };
    let data = secret
        .data
        .as_ref()
        .and_then(|data| data.get("release"))
        .ok_or_else(|| fail("no `release` key in its data".to_owned()))?;
    let text: Vec<u8> = data
        .0
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let packed = base64::engine::general_purpose::STANDARD
        .decode(&text)
        .map_err(|error| fail(format!("`release` is not base64: {error}")))?;
    let json = if packed.starts_with(&GZIP_MAGIC) {
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(packed.as_slice())
            .read_to_end(&mut json)
            .map_err(|error| fail(format!("`release` is not gzip: {error}")))?;
        json
    } else {
        packed
    };
    let record: Record = serde_json::from_slice(&json)
        .map_err(|error| fail(format!("`release` is not a Helm release record: {error}")))?;
    let status = Status::parse(&record.info.status)
        .ok_or_else(|| fail(format!("unknown release status {:?}", record.info.status)))?;
    let (chart, chart_version, app_version) = record.chart.map_or_else(
        || (String::new(), String::new(), None),
        |chart| {
            (
                chart.metadata.name,
                chart.metadata.version,
                chart.metadata.app_version,
            )
        },
    );
    Ok(Release {
        name: record.name,
        namespace: record.namespace,
        revision: record.version,
        status,
        chart,
        chart_version,
        app_version,
        values: record
            .config
            .filter(|config| !config.is_null())
            .unwrap_or_else(|| serde_json::Value::Object(serde_json::Map::new())),
        manifest: record.manifest,
        description: record.info.description,
        hooks: record.hooks.unwrap_or_default(),
    })
}

/// Encodes a release record the way Helm does (for fakes and tests of readers).
///
/// # Panics
/// Never: it writes to memory.
#[must_use]
pub fn encode(record: &serde_json::Value) -> Vec<u8> {
    use std::io::Write as _;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(record.to_string().as_bytes())
        .expect("writing to a Vec cannot fail");
    let packed = gzip.finish().expect("writing to a Vec cannot fail");
    base64::engine::general_purpose::STANDARD
        .encode(packed)
        .into_bytes()
}

/// A release's revisions, newest first, from its Secrets (those of other releases ignored).
pub fn history(release: &str, secrets: &[Secret]) -> Result<Vec<Release>, DecodeError> {
    let mut releases = Vec::new();
    for secret in secrets {
        if secret.type_.as_deref() != Some(SECRET_TYPE) {
            continue;
        }
        let decoded = decode(secret)?;
        if decoded.name == release {
            releases.push(decoded);
        }
    }
    releases.sort_by_key(|release| std::cmp::Reverse(release.revision));
    Ok(releases)
}

/// What the history says about starting a deploy.
#[derive(Debug, Clone, PartialEq)]
pub enum Head {
    /// No revision: a first install.
    New,
    /// The newest revision is not pending (`deployed`, or `failed`/`superseded` after a failure).
    Ready {
        /// The newest revision.
        head: Release,
        /// The newest `deployed` one, if any — what a rollback returns to.
        deployed: Option<Release>,
    },
    /// The newest revision is `pending-*`: Helm refuses every operation until it is resolved.
    Pending {
        /// The stuck revision.
        head: Release,
        /// The newest `deployed` one before it, if any.
        deployed: Option<Release>,
    },
}

/// Where a release stands, from its history (newest first).
#[must_use]
pub fn head(history: &[Release]) -> Head {
    let Some(head) = history.first() else {
        return Head::New;
    };
    let deployed = history
        .iter()
        .find(|release| release.status == Status::Deployed)
        .cloned();
    if head.status.pending() {
        Head::Pending {
            head: head.clone(),
            deployed,
        }
    } else {
        Head::Ready {
            head: head.clone(),
            deployed,
        }
    }
}
