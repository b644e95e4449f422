//! The agent's node ID: from config, else persisted in the data dir (so a restart keeps it),
//! else random (`-dev`). Raft's numeric server ID is derived from it.

use std::path::Path;

const NODE_ID_FILE: &str = "node-id";

pub fn node_id(configured: Option<&str>, data_dir: Option<&Path>) -> Result<String, String> {
    if let Some(id) = configured {
        return Ok(id.to_lowercase());
    }
    let Some(dir) = data_dir else {
        return Ok(uuid::Uuid::new_v4().to_string());
    };
    let path = dir.join(NODE_ID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let id = text.trim().to_string();
            uuid::Uuid::parse_str(&id)
                .map_err(|e| format!("{}: invalid node ID {id:?}: {e}", path.display()))?;
            Ok(id)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let id = uuid::Uuid::new_v4().to_string();
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            proconsul_wal::write_atomic(&path, id.as_bytes()).map_err(|e| e.to_string())?;
            Ok(id)
        }
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Raft server ID: the first 8 bytes of the node UUID (collisions need 2^32 servers).
pub fn raft_id(node_id: &str) -> u64 {
    match uuid::Uuid::parse_str(node_id) {
        Ok(uuid) => {
            let bytes = uuid.as_bytes();
            u64::from_be_bytes([
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            ])
        }
        // Not a UUID: a stable FNV-1a hash of the text.
        Err(_) => node_id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persisted_id_survives_restart() {
        let dir = std::env::temp_dir().join(format!("proconsul-id-{}", uuid::Uuid::new_v4()));
        let first = node_id(None, Some(&dir)).expect("created");
        let second = node_id(None, Some(&dir)).expect("read back");
        assert_eq!(first, second);
        assert_ne!(raft_id(&first), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
