//! Services and checks registered over the API survive a restart when `-data-dir` is set:
//! they are written to `<data_dir>/local/definitions.json` (format version 1, replaced
//! atomically on every change). Config-file definitions are not persisted: the files
//! themselves are their source.

use proconsul_types::agent::{CheckDefinition, ServiceDefinition};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("failed to persist local definitions to {path}: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("failed to read persisted local definitions {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error(
        "persisted local definitions {path} have format version {found}; this build reads version {FORMAT_VERSION}"
    )]
    Version { path: PathBuf, found: u32 },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PersistedService {
    pub definition: ServiceDefinition,
    pub checks: Vec<CheckDefinition>,
    pub token: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PersistedCheck {
    pub definition: CheckDefinition,
    pub token: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Persisted {
    pub version: u32,
    pub services: Vec<PersistedService>,
    pub checks: Vec<PersistedCheck>,
}

/// The last result of each TTL check, so a restart does not flip a passing TTL check to
/// critical before its TTL would have run out (Consul persists this state too).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CheckStates {
    pub version: u32,
    pub checks: std::collections::BTreeMap<String, CheckState>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CheckState {
    pub status: String,
    pub output: String,
    /// Unix milliseconds after which the state is stale (the TTL ran out).
    pub expires_unix_ms: u64,
}

fn states_path(data_dir: &Path) -> PathBuf {
    data_dir.join("local").join("check-state.json")
}

/// Written on every TTL update: replaced atomically but not fsynced (losing the newest
/// state on power loss only means the check starts critical, as without this file).
pub fn save_check_states(data_dir: &Path, states: &CheckStates) -> Result<(), PersistError> {
    let path = states_path(data_dir);
    let fail = |reason: String| PersistError::Write {
        path: path.clone(),
        reason,
    };
    let mut states = states.clone();
    states.version = FORMAT_VERSION;
    let bytes = serde_json::to_vec(&states).map_err(|e| fail(e.to_string()))?;
    let tmp = path.with_extension("json.tmp");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    }
    std::fs::write(&tmp, bytes).map_err(|e| fail(e.to_string()))?;
    std::fs::rename(&tmp, &path).map_err(|e| fail(e.to_string()))
}

/// The saved TTL states; a missing, unreadable or other-version file is no state.
pub fn load_check_states(data_dir: &Path) -> CheckStates {
    std::fs::read(states_path(data_dir))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<CheckStates>(&bytes).ok())
        .filter(|s| s.version == FORMAT_VERSION)
        .unwrap_or_default()
}

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("local").join("definitions.json")
}

pub fn save(data_dir: &Path, state: &Persisted) -> Result<(), PersistError> {
    let path = path(data_dir);
    let fail = |reason: String| PersistError::Write {
        path: path.clone(),
        reason,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    }
    let mut state = state.clone();
    state.version = FORMAT_VERSION;
    let bytes = serde_json::to_vec_pretty(&state).map_err(|e| fail(e.to_string()))?;
    proconsul_wal::write_atomic(&path, &bytes).map_err(|e| fail(e.to_string()))
}

/// The persisted definitions, or nothing when none were ever written.
pub fn load(data_dir: &Path) -> Result<Persisted, PersistError> {
    let path = path(data_dir);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Persisted::default()),
        Err(e) => {
            return Err(PersistError::Read {
                path,
                reason: e.to_string(),
            });
        }
    };
    let state: Persisted = serde_json::from_slice(&bytes).map_err(|e| PersistError::Read {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    if state.version != FORMAT_VERSION {
        return Err(PersistError::Version {
            path,
            found: state.version,
        });
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_other_versions() {
        let dir = std::env::temp_dir().join(format!("pc-persist-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(load(&dir).expect("empty"), Persisted::default());
        let state = Persisted {
            version: 0,
            services: vec![PersistedService {
                definition: ServiceDefinition {
                    id: "web".into(),
                    name: "web".into(),
                    ..ServiceDefinition::default()
                },
                checks: vec![],
                token: String::new(),
            }],
            checks: vec![],
        };
        save(&dir, &state).expect("saves");
        let loaded = load(&dir).expect("loads");
        assert_eq!(loaded.services, state.services);
        std::fs::write(
            path(&dir),
            br#"{"version": 9, "services": [], "checks": []}"#,
        )
        .expect("writes");
        assert!(matches!(
            load(&dir),
            Err(PersistError::Version { found: 9, .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
