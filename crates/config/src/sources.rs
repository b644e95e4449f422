//! Reading config files and directories into JSON sources.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::ConfigError;
use crate::flags::ConfigPath;

/// One config fragment with the name used in messages (file path, or
/// `flags-0.hcl` for `-hcl` fragments).
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub name: String,
    pub value: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Hcl,
}

impl Format {
    pub(crate) fn from_flag(s: &str) -> Result<Format, ConfigError> {
        match s {
            "json" => Ok(Format::Json),
            "hcl" => Ok(Format::Hcl),
            other => Err(ConfigError::Invalid(format!(
                "-config-format must be 'json' or 'hcl', got {other:?}"
            ))),
        }
    }

    fn from_extension(path: &Path) -> Option<Format> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => Some(Format::Json),
            Some("hcl") => Some(Format::Hcl),
            _ => None,
        }
    }
}

/// Parses text in the given format into a JSON object.
pub(crate) fn parse_text(text: &str, format: Format, name: &str) -> Result<Source, ConfigError> {
    let parsed = match format {
        Format::Json => serde_json::from_str::<Value>(text).map_err(|e| e.to_string()),
        Format::Hcl => crate::hcl::hcl_to_json(text),
    };
    let value = parsed.map_err(|message| ConfigError::Parse {
        source_name: name.to_string(),
        message,
    })?;
    if !value.is_object() {
        return Err(ConfigError::Parse {
            source_name: name.to_string(),
            message: "the top level of a config file must be an object".to_string(),
        });
    }
    Ok(Source {
        name: name.to_string(),
        value,
    })
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ConfigError + '_ {
    move |source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn load_file(path: &Path, forced: Option<Format>) -> Result<Source, ConfigError> {
    let format = forced
        .or_else(|| Format::from_extension(path))
        .ok_or_else(|| ConfigError::UnsupportedFormat {
            path: path.to_path_buf(),
        })?;
    let text = fs::read_to_string(path).map_err(io_err(path))?;
    parse_text(&text, format, &path.display().to_string())
}

/// Loads `*.json` and `*.hcl` files directly inside `dir` in lexical order
/// (every regular file when a format is forced).
fn load_dir(dir: &Path, forced: Option<Format>) -> Result<Vec<Source>, ConfigError> {
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let path = entry.map_err(io_err(dir))?.path();
        // Follow symlinks; skip sub-directories (non-recursive).
        let meta = fs::metadata(&path).map_err(io_err(&path))?;
        if !meta.is_file() {
            continue;
        }
        if forced.is_some() || Format::from_extension(&path).is_some() {
            files.push(path);
        }
    }
    files.sort();
    files.iter().map(|p| load_file(p, forced)).collect()
}

/// Loads one `-config-file` / `-config-dir` argument.
pub(crate) fn load_path(
    path: &ConfigPath,
    forced: Option<Format>,
) -> Result<Vec<Source>, ConfigError> {
    let p = match path {
        ConfigPath::File(p) | ConfigPath::Dir(p) => p,
    };
    let meta = fs::metadata(p).map_err(io_err(p))?;
    if meta.is_dir() {
        load_dir(p, forced)
    } else {
        Ok(vec![load_file(p, forced)?])
    }
}
