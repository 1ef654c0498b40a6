//! `WEFTD_<KEY>` environment overrides and where the config file is.

use super::*;

/// Prefix of the environment variables that override the config file.
pub const ENV_PREFIX: &str = "WEFTD_";

/// Where the config file is, and whether it must exist.
pub(super) fn config_path(
    data_dir: &Path,
    flag: Option<PathBuf>,
    env: &[(String, String)],
) -> (Option<PathBuf>, bool) {
    let var = |name: &str| {
        env.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    if let Some(p) = flag {
        return (Some(p), true);
    }
    if let Some(p) = var("WEFT_CONFIG") {
        return (Some(PathBuf::from(p)), true);
    }
    let own = data_dir.join(files::CONFIG);
    if own.exists() {
        return (Some(own), false);
    }
    let xdg = match (var("XDG_CONFIG_HOME"), var("HOME")) {
        (Some(x), _) => Some(PathBuf::from(x).join("weft").join(files::CONFIG)),
        (None, Some(h)) => Some(PathBuf::from(h).join(".config/weft").join(files::CONFIG)),
        (None, None) => None,
    };
    (xdg, false)
}

/// A `WEFTD_` variable's value: TOML if it parses, else the text itself.
pub(super) fn env_value(v: &str) -> toml::Value {
    match toml::from_str::<toml::Table>(&format!("v = {v}")) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(v.into())),
        Err(_) => toml::Value::String(v.into()),
    }
}

/// Puts `value` at the dotted `path` of `table`, making tables on the way.
pub(super) fn set_path(
    table: &mut toml::Table,
    path: &[String],
    value: toml::Value,
) -> Result<(), String> {
    let (last, parents) = path.split_last().ok_or("empty key")?;
    let mut t = table;
    for p in parents {
        let entry = t
            .entry(p.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        t = match entry {
            toml::Value::Table(t) => t,
            _ => return Err(format!("{p} is not a table")),
        };
    }
    t.insert(last.clone(), value);
    Ok(())
}

/// The overrides from `WEFTD_` variables, each checked on its own so an
/// error names the variable.
pub(super) fn env_overrides(
    env: &[(String, String)],
) -> Result<Vec<(Vec<String>, toml::Value)>, String> {
    let mut out = Vec::new();
    // In name order, so `WEFTD_RELAY` and `WEFTD_RELAY__MAX_CIRCUITS`
    // together always meet the same way (an error naming both).
    let mut env: Vec<&(String, String)> = env.iter().collect();
    env.sort();
    for (k, v) in env {
        let Some(key) = k.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let path: Vec<String> = key.split("__").map(|p| p.to_ascii_lowercase()).collect();
        if path.iter().any(|p| p.is_empty()) {
            return Err(format!(
                "{k}: not a config key; use {ENV_PREFIX}KEY or {ENV_PREFIX}TABLE__KEY"
            ));
        }
        // TOML first (numbers, booleans, lists); a value that only makes
        // sense as text (`WEFTD_GATEWAY__TITLE=1984`) is taken as text.
        let check = |value: &toml::Value| {
            let mut alone = toml::Table::new();
            set_path(&mut alone, &path, value.clone())?;
            toml::Value::Table(alone)
                .try_into::<FileConfig>()
                .map(|_| ())
                .map_err(|e| e.message().to_string())
        };
        let parsed = env_value(v);
        let text = toml::Value::String(v.clone());
        let value = match check(&parsed) {
            Ok(()) => parsed,
            Err(e) => match check(&text) {
                Ok(()) => text,
                Err(_) => {
                    return Err(format!(
                        "environment variable {k} (config key {}): {e}",
                        path.join(".")
                    ))
                }
            },
        };
        out.push((path, value));
    }
    Ok(out)
}
