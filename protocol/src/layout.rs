//! The data dir's layout, shared by the daemon and the CLI so they always
//! agree where things are. Pure: the caller reads the environment and
//! passes the values in.

use std::ffi::OsStr;
use std::path::PathBuf;

/// The RocksDB store.
pub const STORE: &str = "store";
/// The libp2p node key (protobuf encoding), mode 0600.
pub const NODE_KEY: &str = "node.key";
/// The key this node signs with (plain or sealed, see `keyfile`), mode
/// 0600: a device key of the identity in [`IDENTITY`], or, without that
/// file, a single-key publisher's key.
pub const PUBLISHER_KEY: &str = "publisher.key";
/// The identity this node's key signs for (see `identity::file`).
pub const IDENTITY: &str = "identity";
/// The identity's root key in force (plain or sealed), mode 0600, while
/// it is kept on this device; absent once it lives only on paper.
pub const ROOT_KEY: &str = "root.key";
/// The API token, mode 0600.
pub const API_TOKEN: &str = "api.token";
/// The API address of the running daemon.
pub const API_ADDR: &str = "api.addr";
/// The public gateway's address while weftd runs with one.
pub const GATEWAY_ADDR: &str = "gateway.addr";
/// The metrics listener's address while weftd runs with one.
pub const METRICS_ADDR: &str = "metrics.addr";
/// Staging folders of files uploaded through the web UI for publishing.
pub const UPLOADS: &str = "uploads";
/// Present while weftd runs; a clean stop with no work in progress
/// removes it, so finding it at start means the last run was cut short.
pub const RUNNING: &str = "weftd.running";
/// The optional config file.
pub const CONFIG: &str = "config.toml";
/// The private network's pre-shared key, in the libp2p key file format.
pub const SWARM_KEY: &str = "swarm.key";

/// The default data dir: `$XDG_DATA_HOME/weft`, else
/// `$HOME/.local/share/weft`, given those two variables' values.
pub fn default_data_dir(xdg_data_home: Option<&OsStr>, home: Option<&OsStr>) -> PathBuf {
    match xdg_data_home.filter(|v| !v.is_empty()) {
        Some(x) => PathBuf::from(x).join("weft"),
        None => PathBuf::from(home.unwrap_or(OsStr::new("."))).join(".local/share/weft"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xdg_wins_over_home_and_empty_xdg_is_ignored() {
        let h = Some(OsStr::new("/home/u"));
        assert_eq!(
            default_data_dir(Some(OsStr::new("/x")), h),
            PathBuf::from("/x/weft")
        );
        assert_eq!(
            default_data_dir(Some(OsStr::new("")), h),
            PathBuf::from("/home/u/.local/share/weft")
        );
        assert_eq!(
            default_data_dir(None, h),
            PathBuf::from("/home/u/.local/share/weft")
        );
    }
}
