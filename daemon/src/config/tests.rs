//! The config file, the environment and the flags, together.

use super::*;

#[test]
fn flags_win_over_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(files::CONFIG),
        "listen = [\"/ip4/127.0.0.1/tcp/5000\"]\npeers = [\"/ip4/127.0.0.1/tcp/5001\"]\napi_port = 9\n",
    )
    .unwrap();
    let c = Config::resolve(
        dir.path().into(),
        vec![],
        vec!["/ip4/127.0.0.1/tcp/5002".into()],
        Some(0),
        None,
    )
    .unwrap();
    assert_eq!(c.listen[0].to_string(), "/ip4/127.0.0.1/tcp/5000");
    assert_eq!(c.storage_max, None);
    assert_eq!(c.peers.len(), 2);
    assert_eq!(c.api.port(), 0);
    assert!(c.api.ip().is_loopback());
}

#[test]
fn a_bad_multiaddr_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let err = Config::resolve(
        dir.path().into(),
        vec!["localhost:4141".into()],
        vec![],
        None,
        None,
    )
    .unwrap_err();
    assert!(err.contains("not a multiaddr"), "{err}");
}

#[test]
fn a_swarm_key_means_tcp_only_and_a_bad_one_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(files::SWARM_KEY), new_swarm_key()).unwrap();
    let c = Config::resolve(dir.path().into(), vec![], vec![], None, Some(false)).unwrap();
    assert!(c.psk.is_some() && !c.mdns);
    assert!(c.listen.iter().all(|a| !a.to_string().contains("quic")));
    let quic = vec!["/ip4/127.0.0.1/udp/0/quic-v1".to_string()];
    assert!(Config::resolve(dir.path().into(), quic, vec![], None, None).is_err());
    std::fs::write(dir.path().join(files::SWARM_KEY), "hello").unwrap();
    let err = Config::resolve(dir.path().into(), vec![], vec![], None, None).unwrap_err();
    assert!(err.contains("not a private network key"), "{err}");
}

#[test]
fn relay_proxy_and_tls_settings() {
    let dir = tempfile::tempdir().unwrap();
    let conf = |text: &str| {
        std::fs::write(dir.path().join(files::CONFIG), text).unwrap();
        Config::resolve(dir.path().into(), vec![], vec![], None, None)
    };
    let c = conf("relay = true\n").unwrap();
    assert_eq!(c.relay, Some(RelayLimits::default()));
    assert!(c.mdns && c.socks5.is_none());
    let c = conf("[relay]\nmax_circuits = 4\nmax_circuit_bytes = \"1 GiB\"\n").unwrap();
    let r = c.relay.unwrap();
    assert_eq!((r.max_circuits, r.max_circuit_bytes), (4, 1 << 30));
    assert_eq!(conf("[relay]\nenabled = false\n").unwrap().relay, None);
    assert!(conf("[relay]\nmax_circuits = 0\n")
        .unwrap_err()
        .contains("at least 1"));
    let c =
        conf("[net]\nsocks5 = \"127.0.0.1:9050\"\ntls_cert = \"c.pem\"\ntls_key = \"/k.pem\"\n")
            .unwrap();
    assert_eq!(c.socks5, Some("127.0.0.1:9050".parse().unwrap()));
    assert!(!c.mdns, "mDNS is off behind a proxy unless asked for");
    assert_eq!(c.tls.cert, Some(dir.path().join("c.pem")));
    assert_eq!(c.tls.key, Some(PathBuf::from("/k.pem")));
    let err = conf("[net]\nsocks5 = \"tor\"\n").unwrap_err();
    assert!(err.contains("not a proxy address"), "{err}");
    assert!(!conf("").unwrap().private_reach);
    assert!(
        conf("[net]\nreachability = \"private\"\n")
            .unwrap()
            .private_reach
    );
    let err = conf("[net]\nreachability = \"hidden\"\n").unwrap_err();
    assert!(err.contains("\"auto\" or \"private\""), "{err}");
}

#[test]
fn an_unknown_config_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(files::CONFIG), "lisen = []\n").unwrap();
    assert!(Config::resolve(dir.path().into(), vec![], vec![], None, None).is_err());
}

#[test]
fn quota_upload_limit_and_rules_come_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let key = weft_protocol::PublisherKey::from_seed([1; 32]).id();
    std::fs::write(
        dir.path().join(files::CONFIG),
        format!(
            "[storage]\nmax = \"2 GiB\"\n[net]\nupload_limit = 1048576\n[follow]\npublishers = [\"{key}\"]\nlangs = [\"pt-br\"]\ntags = [\"Training\"]\n[block]\npublishers = []\n"
        ),
    )
    .unwrap();
    let c = Config::resolve(dir.path().into(), vec![], vec![], None, None).unwrap();
    assert_eq!(c.storage_max, Some(2 << 30));
    assert_eq!(c.upload_limit, Some(1 << 20));
    assert!(c.follow.publishers.contains(&key));
    assert!(c.follow.langs.contains("pt-BR"));
    assert!(c.follow.tags.contains("training"));
    std::fs::write(
        dir.path().join(files::CONFIG),
        "[storage]\nmax = \"lots\"\n",
    )
    .unwrap();
    let err = Config::resolve(dir.path().into(), vec![], vec![], None, None).unwrap_err();
    assert!(err.contains("storage.max"), "{err}");
    std::fs::write(dir.path().join(files::CONFIG), "[storage]\nmaximum = 5\n").unwrap();
    let err = Config::resolve(dir.path().into(), vec![], vec![], None, None).unwrap_err();
    assert!(err.contains("maximum"), "{err}");
}

#[test]
fn hidden_mode_listens_nowhere_and_refuses_what_would_show_the_address() {
    let dir = tempfile::tempdir().unwrap();
    let load = |text: &str, hidden: bool| {
        std::fs::write(dir.path().join(files::CONFIG), text).unwrap();
        let flags = Flags {
            listen: vec!["/ip4/0.0.0.0/tcp/4141".into()],
            hidden,
            ..Flags::default()
        };
        Config::load(dir.path().into(), flags, &[])
    };
    let c = load("", true).unwrap();
    assert!(c.hidden && c.private_reach && !c.mdns && c.listen.is_empty());
    assert!(
        c.to_toml().contains("privacy = \"hidden\""),
        "{}",
        c.to_toml()
    );
    let c = load("[net]\nprivacy = \"hidden\"\n", false).unwrap();
    assert!(c.hidden);
    assert!(!load("", false).unwrap().hidden);
    for (text, flag, says) in [
        (
            "[net]\nprivacy = \"invisible\"\n",
            false,
            "\"normal\" or \"hidden\"",
        ),
        ("relay = true\n", true, "cannot relay"),
        ("mdns = true\n", true, "runs no mDNS"),
        (
            "[gateway]\nlisten = \"127.0.0.1:8080\"\n",
            true,
            "public gateway",
        ),
    ] {
        let err = load(text, flag).err().unwrap_or_default();
        assert!(err.contains(says), "{text}: {err}");
    }
    // net.relays: a relay's own address, with its peer id.
    let relay = "/ip4/192.0.2.9/tcp/4141/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN";
    let c = load(&format!("[net]\nrelays = [\"{relay}\"]\n"), false).unwrap();
    assert_eq!(c.relays.len(), 1);
    for bad in ["/ip4/192.0.2.9/tcp/4141", &format!("{relay}/p2p-circuit")] {
        let err = load(&format!("[net]\nrelays = [\"{bad}\"]\n"), false)
            .err()
            .unwrap_or_default();
        assert!(err.contains("not a relay's own address"), "{bad}: {err}");
    }
}
