//! `weftd`: a weft node. Parses flags, sets up logging and runs the node
//! until SIGINT or SIGTERM.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use weft_daemon::config::{default_data_dir, Config};

/// A weft node: shares signed bundles with peers and serves the local API
/// that the `weft` command uses.
///
/// Settings come from the config file (--config, else $WEFT_CONFIG, else
/// config.toml in the data dir if there is one, else
/// $XDG_CONFIG_HOME/weft/config.toml), then WEFTD_<KEY> environment
/// variables (WEFTD_STORAGE__MAX="20 GiB"), then these flags.
///
/// Exit codes: 0 stopped cleanly, 1 failed while running, 2 bad flags or
/// configuration.
#[derive(Parser)]
#[command(name = "weftd", version, about, long_about)]
struct Args {
    /// Data directory [default: $XDG_DATA_HOME/weft or ~/.local/share/weft]
    #[arg(long, env = "WEFT_HOME")]
    data_dir: Option<PathBuf>,
    /// Config file [default: $WEFT_CONFIG, else config.toml in the data dir, else ~/.config/weft/config.toml]
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Print the effective configuration (file, environment and flags
    /// together, defaults filled in) as TOML and exit
    #[arg(long)]
    print_config: bool,
    /// Serve the public read-only web gateway on this address, e.g.
    /// 0.0.0.0:8080 (config: gateway.listen)
    #[arg(long, value_name = "ADDR")]
    gateway: Option<String>,
    /// Multiaddr to listen on (repeat for several) [default: TCP and QUIC on port 4141]
    #[arg(long = "listen", value_name = "MULTIADDR")]
    listen: Vec<String>,
    /// Multiaddr of a peer to connect to (repeat for several)
    #[arg(long = "peer", value_name = "MULTIADDR")]
    peers: Vec<String>,
    /// Port of the local API on 127.0.0.1; 0 picks a free one [default: 4142]
    #[arg(long)]
    api_port: Option<u16>,
    /// Do not look for peers on the LAN with mDNS (config: mdns = false)
    #[arg(long)]
    no_mdns: bool,
    /// Hide where this node is: no listener, no own addresses announced,
    /// direct connections only to the hubs and relays it is given, every
    /// other peer reached through their relays (config: net.privacy =
    /// "hidden"; see docs/censorship.md)
    #[arg(long)]
    hidden: bool,
    /// Print a new private network key (for swarm.key) and exit
    #[arg(long)]
    new_swarm_key: bool,
    /// Read the publisher key's passphrase from this file descriptor (up
    /// to its end or first newline) and unlock the key at start, so the
    /// node can publish and retract without asking
    #[arg(long, value_name = "FD")]
    passphrase_fd: Option<u32>,
    /// Write weftd's man page into this folder and exit
    #[arg(long, value_name = "DIR", hide = true)]
    manpage: Option<PathBuf>,
}

/// Reads a passphrase from an open file descriptor, through /proc so no
/// unsafe code is needed.
fn read_passphrase_fd(fd: u32) -> Result<String, String> {
    use std::io::Read;
    let path = format!("/proc/self/fd/{fd}");
    let file = std::fs::File::open(&path)
        .map_err(|e| format!("cannot read the passphrase from file descriptor {fd}: {e}"))?;
    let mut bytes = Vec::new();
    file.take(weft_protocol::keyfile::MAX_PASSPHRASE_BYTES as u64 + 2)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the passphrase from file descriptor {fd}: {e}"))?;
    weft_protocol::keyfile::passphrase_from_bytes(&bytes)
        .map_err(|e| format!("file descriptor {fd}: {e}"))
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = term.recv() => {},
    }
    tracing::info!("shutting down");
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,libp2p=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    if let Some(dir) = &args.manpage {
        use clap::CommandFactory;
        let page = clap_mangen::Man::new(Args::command());
        let mut out = Vec::new();
        let written = page
            .render(&mut out)
            .and_then(|()| std::fs::write(dir.join("weftd.1"), &out));
        return match written {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!(
                    "weftd: cannot write the man page into {}: {e}",
                    dir.display()
                );
                ExitCode::FAILURE
            }
        };
    }
    if args.new_swarm_key {
        print!("{}", weft_daemon::config::new_swarm_key());
        return ExitCode::SUCCESS;
    }
    // Absolute, so every path the daemon hands out (upload folders,
    // exports) means the same thing to the CLI and the web UI.
    let data_dir = args.data_dir.unwrap_or_else(default_data_dir);
    let data_dir = std::path::absolute(&data_dir).unwrap_or(data_dir);
    let passphrase = match args.passphrase_fd.map(read_passphrase_fd).transpose() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("weftd: {e}");
            return ExitCode::from(2);
        }
    };
    let flags = weft_daemon::config::Flags {
        config: args.config,
        listen: args.listen,
        peers: args.peers,
        api_port: args.api_port,
        mdns: args.no_mdns.then_some(false),
        gateway: args.gateway,
        hidden: args.hidden,
    };
    let env: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let mut config = match Config::load(data_dir, flags, &env) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("weftd: {e}");
            return ExitCode::from(2);
        }
    };
    if args.print_config {
        print!("{}", config.to_toml());
        return ExitCode::SUCCESS;
    }
    config.passphrase = passphrase;
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("weftd: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(weft_daemon::run(config, shutdown_signal())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("weftd: {e:#}");
            ExitCode::FAILURE
        }
    }
}
