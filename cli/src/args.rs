//! The command line: clap's definitions of `weft`'s global flags and commands.
//!
//! The help text and the man pages in docs/man are generated from these doc
//! comments and attributes (`./dev man`), and a test compares the committed
//! pages with them: a change here is a change to the documentation.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Share signed bundles of files with weft peers.
///
/// Exit codes: 0 success; 1 the daemon refused or the operation failed
/// (the message says why); 2 wrong usage; 3 weftd is not running or cannot
/// be reached. With --json, an error is printed on stderr as
/// {"error": "...", "status": <HTTP status or null>}.
#[derive(Parser)]
#[command(name = "weft", version, about, long_about)]
pub(crate) struct Cli {
    /// Data directory of the node [default: $XDG_DATA_HOME/weft or ~/.local/share/weft]
    #[arg(long, global = true, env = "WEFT_HOME")]
    pub(crate) data_dir: Option<PathBuf>,
    /// Print machine-readable JSON instead of text
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Read the publisher key's passphrase from this file descriptor
    /// instead of asking on the terminal (its first line is used)
    #[arg(long, global = true, value_name = "FD")]
    pub(crate) passphrase_fd: Option<u32>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Create a publisher identity (once per organizer or group): its root
    /// key, this device's key, and the paper backup (24 words, shown once)
    Init {
        /// Protect the keys with a passphrase (Argon2id): a copy of the
        /// data dir is then useless without it. weft asks for it each
        /// time it signs (publish, retract).
        #[arg(long)]
        passphrase: bool,
        /// Do not keep the root key on this device: it lives only on the
        /// paper backup from the start
        #[arg(long)]
        no_root: bool,
        /// A name for this device, for people [default: the host name]
        #[arg(long, value_name = "NAME")]
        device_name: Option<String>,
    },
    /// Show the identity this node signs for: its fingerprint, root and
    /// devices; or rotate its root
    Identity {
        #[command(subcommand)]
        action: Option<IdentityCmd>,
    },
    /// Give a publisher a name of your own, shown wherever it appears
    /// (and usable in place of its id); a named publisher is trusted
    Name {
        /// Publisher id (or the name you gave it before)
        publisher: String,
        /// The name: up to 64 bytes, letters of one script
        name: String,
    },
    /// Forget the name you gave a publisher
    Unname {
        /// Publisher id, or its name
        publisher: String,
    },
    /// List the names you gave publishers, with their fingerprints
    Names,
    /// Set this publisher's profile (a display name and description per
    /// language), or show a publisher's
    Profile {
        #[command(subcommand)]
        action: ProfileCmd,
    },
    /// Private groups: share with members only, through nodes that
    /// cannot read what they carry
    Group {
        #[command(subcommand)]
        action: GroupCmd,
    },
    /// Add this machine as a device of an identity, approve a device, or
    /// revoke one (a seized laptop)
    Device {
        #[command(subcommand)]
        action: DeviceCmd,
    },
    /// Publish a folder (or a file) as a signed bundle
    Publish {
        /// The folder or file to publish
        path: PathBuf,
        /// Stable name of the bundle [default: the folder name]
        #[arg(long)]
        name: Option<String>,
        /// Title; prefix with a language to give several: --title es=Guía
        #[arg(long)]
        title: Vec<String>,
        /// Description; prefix with a language like --title
        #[arg(long)]
        description: Vec<String>,
        /// Language of titles and descriptions without a prefix (BCP 47) [default: und]
        #[arg(long)]
        lang: Option<String>,
        /// Tag (repeat for several)
        #[arg(long)]
        tag: Vec<String>,
        /// Licence, for example CC-BY-4.0
        #[arg(long, default_value = "")]
        licence: String,
        /// Version number [default: one more than the latest known]
        #[arg(long)]
        seq: Option<u64>,
        /// Publish privately to this group (its id or name): sealed, so
        /// that only its members can read it
        #[arg(long)]
        group: Option<String>,
    },
    /// List catalog entries, newest first, optionally matching some text
    Search {
        /// Words that must all appear in the name, a title or a tag (any case)
        text: Option<String>,
        /// Only bundles with a title in this language
        #[arg(long)]
        lang: Option<String>,
        /// Only bundles with this tag
        #[arg(long)]
        tag: Option<String>,
        /// Only bundles from this publisher
        #[arg(long)]
        publisher: Option<String>,
        /// Most results to list (at most 1000)
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// List every version, not only the latest of each name
        #[arg(long)]
        all_versions: bool,
        /// Only publishers this node trusts or that are vouched for (see
        /// `weft why`)
        #[arg(long)]
        trusted_only: bool,
        /// Only the private bundles of this group (its id, or the name of
        /// a group this node can read)
        #[arg(long)]
        group: Option<String>,
    },
    /// Show a bundle's details
    Show {
        /// Bundle id, or PUBLISHER/NAME for the latest version
        id: String,
    },
    /// Fetch a bundle, verify it, and write its files
    Get {
        /// Bundle id, or PUBLISHER/NAME for the latest version
        id: String,
        /// Output folder [default: ./<bundle name>]
        #[arg(short, long)]
        out: Option<PathBuf>,
    },
    /// Fetch a bundle if needed and keep it
    Pin {
        /// Bundle id, or PUBLISHER/NAME for the latest version
        id: String,
    },
    /// Stop keeping a bundle (it stays in the cache until space is needed)
    Unpin {
        /// Bundle id, or PUBLISHER/NAME
        id: String,
    },
    /// Mirror every bundle of a publisher, a tag or a language: fetched and
    /// pinned automatically, now and as new ones arrive
    Follow {
        /// Publisher id to follow
        publisher: Option<String>,
        /// Follow a tag instead
        #[arg(long, conflicts_with = "publisher")]
        tag: Option<String>,
        /// Follow a language instead (es also matches es-MX)
        #[arg(long, conflicts_with_all = ["publisher", "tag"])]
        lang: Option<String>,
        /// Follow every publisher this publisher vouches for instead
        #[arg(long, value_name = "PUBLISHER", conflicts_with_all = ["publisher", "tag", "lang"])]
        vouched_by: Option<String>,
        /// Mirror every bundle of a private group, sealed, without being a
        /// member (a blind hub): the group's id
        #[arg(long, value_name = "GROUP_ID", conflicts_with_all = ["publisher", "tag", "lang", "vouched_by"])]
        group: Option<String>,
    },
    /// Remove a follow rule (mirrored bundles move to the cache)
    Unfollow {
        /// Publisher id
        publisher: Option<String>,
        /// A tag rule
        #[arg(long, conflicts_with = "publisher")]
        tag: Option<String>,
        /// A language rule
        #[arg(long, conflicts_with_all = ["publisher", "tag"])]
        lang: Option<String>,
        /// A rule following the publishers this one vouches for
        #[arg(long, value_name = "PUBLISHER", conflicts_with_all = ["publisher", "tag", "lang"])]
        vouched_by: Option<String>,
        /// A rule mirroring a private group
        #[arg(long, value_name = "GROUP_ID", conflicts_with_all = ["publisher", "tag", "lang", "vouched_by"])]
        group: Option<String>,
    },
    /// Block a publisher: hide its bundles, never mirror or serve them, and
    /// remove those stored here
    Block {
        /// Publisher id
        publisher: String,
    },
    /// Remove a block
    Unblock {
        /// Publisher id
        publisher: String,
    },
    /// List follow and block rules
    Rules,
    /// Vouch for a publisher: nodes that trust you then trust it too, and
    /// keep and pass on what it publishes (lapses after 180 days unless you
    /// vouch again)
    Vouch {
        /// Publisher id
        publisher: String,
        /// Why, for people (at most 256 bytes)
        #[arg(long)]
        note: Option<String>,
    },
    /// Withdraw a vouch
    Unvouch {
        /// Publisher id
        publisher: String,
    },
    /// Say how far this node trusts a publisher (trusted, vouched, seen or
    /// blocked) and why
    Why {
        /// Publisher id
        publisher: String,
    },
    /// Retract a bundle you published: other nodes stop listing and serving
    /// it (except where someone pinned it)
    Retract {
        /// Bundle id, or PUBLISHER/NAME
        id: String,
    },
    /// Evict the cache down to storage.max and delete unused blocks now
    Gc,
    /// Read back and verify every block this node holds; bundles with a
    /// damaged or missing block are fetched again from peers
    Check,
    /// Write bundles to an archive file (or a folder of them) that `weft
    /// import` verifies and loads, for carrying on a USB stick
    Export {
        /// Bundle ids or PUBLISHER/NAME
        #[arg(required = true)]
        bundles: Vec<String>,
        /// One archive file holding every bundle
        #[arg(short, long, conflicts_with = "dir", required_unless_present = "dir")]
        out: Option<PathBuf>,
        /// A folder, with one archive file per bundle
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Verify and load an archive file, or every .weft file in a folder;
    /// nothing is stored unless all of it verifies
    Import {
        /// The archive file or folder
        path: PathBuf,
    },
    /// List pinned bundles
    Pins,
    /// List connected peers
    Peers,
    /// Check what this node can reach and how: addresses, NAT, relays,
    /// transports, bootstrap peers, each with a suggestion
    Doctor,
    /// Connect to a peer
    Connect {
        /// Its multiaddr, for example /ip4/192.0.2.1/tcp/4141/p2p/12D3Koo…
        multiaddr: String,
    },
    /// Find the nodes that hold a bundle, through the DHT
    Providers {
        /// Bundle id
        id: String,
    },
    /// Print an invite that lets another node join this one (and a QR code
    /// on a terminal)
    Invite,
    /// Join the node an invite names: dial it, remember it as a bootstrap
    /// peer and catch up on its catalog
    Join {
        /// The invite string, WEFT1…
        invite: String,
        /// Your name for the inviter's publisher [default: the name the
        /// invite carries]
        #[arg(long)]
        name: Option<String>,
    },
    /// Show the node's status on one screen: peers, catalog, pins,
    /// storage, what is fetching now, warnings
    Status,
    /// Print a link that opens the web UI in a browser, logged in (it works
    /// once, within 2 minutes)
    Ui {
        /// Also open it in the default browser
        #[arg(long)]
        open: bool,
    },
    /// Print a shell completion script (for example:
    /// weft completions bash > ~/.local/share/bash-completion/completions/weft)
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Write the man pages into a folder
    #[command(hide = true)]
    Manpages {
        /// The folder
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
pub(crate) enum GroupCmd {
    /// Found a group, with you as its admin
    Create {
        /// Its name (only members ever see it)
        name: String,
    },
    /// Add a member (admins only); its devices receive the group's key
    Add {
        /// Group id, or the name of a group you can read
        group: String,
        /// Publisher id, or the name you gave it
        publisher: String,
        /// Also give it the keys of what was shared before it joined
        #[arg(long)]
        history: bool,
        /// Make it an admin too
        #[arg(long)]
        admin: bool,
    },
    /// Remove a member (admins only): a new key that it never receives
    Remove {
        /// Group id, or the name of a group you can read
        group: String,
        /// Publisher id, or the name you gave it
        publisher: String,
    },
    /// Start a new key epoch with the same members (admins only): what
    /// to do when a member's device is revoked, if your node did not do
    /// it already
    Rekey {
        /// Group id, or the name of a group you can read
        group: String,
    },
    /// List the groups this node knows of
    List,
    /// Show a group: its members, epoch and bundles
    Show {
        /// Group id, or the name of a group you can read
        group: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum ProfileCmd {
    /// Sign and send this publisher's profile: the name and description
    /// in one language (other languages stay as they were)
    Set {
        /// Display name: up to 64 bytes, letters of one script
        #[arg(long)]
        name: String,
        /// A short description (up to 512 bytes)
        #[arg(long, default_value = "")]
        about: String,
        /// Their language (BCP 47) [default: und]
        #[arg(long)]
        lang: Option<String>,
        /// A link (repeat for up to 4); replaces the current links
        #[arg(long)]
        link: Vec<String>,
        /// How to reach you, for people; replaces the current one
        #[arg(long)]
        contact: Option<String>,
    },
    /// Show a publisher's profile [default: this node's publisher]
    Show {
        /// Publisher id, or the name you gave it
        publisher: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum IdentityCmd {
    /// Replace the root by the next one the paper backup holds (the words
    /// are read from the standard input): the old root can sign nothing
    /// more, so a stolen root is useless
    Rotate {
        /// Rotate on top of the key log's event with this seq, so that
        /// later events (made with a stolen root) stop counting
        #[arg(long, value_name = "SEQ")]
        from_seq: Option<u64>,
        /// Keep what the old root signed before this time: now, Unix
        /// seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC) [default: keep
        /// nothing it signed]
        #[arg(long, value_name = "TIME")]
        keep_before: Option<String>,
    },
    /// Delete the root key from this device (root.key): it then lives only
    /// on the paper backup
    RemoveRoot,
    /// Make this node's single publisher key the root of an identity, with
    /// the same publisher id: a paper backup, a new root and a device key
    /// (everything the old key signed stays valid)
    Upgrade {
        /// A name for this device, for people [default: "first device"]
        #[arg(long, value_name = "NAME")]
        device_name: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum DeviceCmd {
    /// Make a key for this machine as a new device of IDENTITY; with
    /// --paper it is approved at once from the paper backup, else approve
    /// it on a device that holds the root
    Add {
        /// The identity (publisher id) this machine will sign for
        #[arg(long)]
        identity: String,
        /// A name for this device, for people [default: the host name]
        #[arg(long)]
        name: Option<String>,
        /// Approve it now with the paper backup's words, read from the
        /// standard input (weftd must be running and know the identity)
        #[arg(long)]
        paper: bool,
        /// Protect this device's key with a passphrase
        #[arg(long)]
        passphrase: bool,
    },
    /// Certify a device key with the root (root.key, or --paper)
    Approve {
        /// The device's key, as `weft device add` printed it
        device: String,
        /// A name for it, for people
        #[arg(long)]
        name: String,
        /// Sign with the paper backup's words, read from the standard input
        #[arg(long)]
        paper: bool,
    },
    /// Revoke a device for good (a lost or seized laptop): every node then
    /// refuses what it signs, except what you keep
    Revoke {
        /// The device's key (`weft identity` lists them)
        device: String,
        /// Keep what it signed before this time: now, Unix seconds,
        /// YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC), for example the hour
        /// before the seizure
        #[arg(long, value_name = "TIME")]
        keep_before: Option<String>,
        /// Keep this bundle too (repeat for several)
        #[arg(long, value_name = "ID")]
        keep: Vec<String>,
        /// Do not keep its retractions, even before --keep-before: the
        /// bundles it retracted come back
        #[arg(long)]
        undo_retractions: bool,
        /// Sign with the paper backup's words, read from the standard input
        #[arg(long)]
        paper: bool,
    },
}
