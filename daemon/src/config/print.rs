//! `weftd --print-config`: the effective configuration as TOML, which
//! can be fed back in as a config file.

use super::*;

impl Config {
    /// The effective configuration as TOML, every key with its value
    /// (`weftd --print-config`).
    pub fn to_toml(&self) -> String {
        use toml::Value as V;
        let strings = |it: &mut dyn Iterator<Item = String>| V::Array(it.map(V::String).collect());
        let path = |p: &Path| V::String(p.display().to_string());
        let mut t = toml::Table::new();
        t.insert(
            "listen".into(),
            strings(&mut self.listen.iter().map(|a| a.to_string())),
        );
        t.insert(
            "peers".into(),
            strings(&mut self.peers.iter().map(|a| a.to_string())),
        );
        t.insert("api_port".into(), V::Integer(self.api.port().into()));
        t.insert("mdns".into(), V::Boolean(self.mdns));
        match &self.relay {
            None => {
                t.insert("relay".into(), V::Boolean(false));
            }
            Some(r) => {
                let mut r2 = toml::Table::new();
                r2.insert("enabled".into(), V::Boolean(true));
                let int = |n: u64| V::Integer(i64::try_from(n).unwrap_or(i64::MAX));
                r2.insert("max_reservations".into(), int(r.max_reservations as u64));
                r2.insert(
                    "max_reservations_per_peer".into(),
                    int(r.max_reservations_per_peer as u64),
                );
                r2.insert("reservation_secs".into(), int(r.reservation.as_secs()));
                r2.insert("max_circuits".into(), int(r.max_circuits as u64));
                r2.insert(
                    "max_circuits_per_peer".into(),
                    int(r.max_circuits_per_peer as u64),
                );
                r2.insert("max_circuit_secs".into(), int(r.max_circuit.as_secs()));
                r2.insert("max_circuit_bytes".into(), int(r.max_circuit_bytes));
                t.insert("relay".into(), V::Table(r2));
            }
        }
        let mut storage = toml::Table::new();
        if let Some(m) = self.storage_max {
            storage.insert(
                "max".into(),
                V::Integer(i64::try_from(m).unwrap_or(i64::MAX)),
            );
        }
        t.insert("storage".into(), V::Table(storage));
        let mut net = toml::Table::new();
        if let Some(u) = self.upload_limit {
            net.insert(
                "upload_limit".into(),
                V::Integer(i64::try_from(u).unwrap_or(i64::MAX)),
            );
        }
        net.insert(
            "reachability".into(),
            V::String(
                if self.private_reach {
                    "private"
                } else {
                    "auto"
                }
                .into(),
            ),
        );
        net.insert(
            "privacy".into(),
            V::String(if self.hidden { "hidden" } else { "normal" }.into()),
        );
        net.insert(
            "relays".into(),
            V::Array(
                self.relays
                    .iter()
                    .map(|a| V::String(a.to_string()))
                    .collect(),
            ),
        );
        if let Some(p) = self.socks5 {
            net.insert("socks5".into(), V::String(p.to_string()));
        }
        if let Some(c) = &self.tls.cert {
            net.insert("tls_cert".into(), path(c));
        }
        if let Some(k) = &self.tls.key {
            net.insert("tls_key".into(), path(k));
        }
        net.insert(
            "tls_trust".into(),
            V::Array(self.tls.trust.iter().map(|p| path(p)).collect()),
        );
        t.insert("net".into(), V::Table(net));
        let table =
            |v: Result<V, toml::ser::Error>| v.unwrap_or_else(|_| V::Table(toml::Table::new()));
        t.insert("follow".into(), table(V::try_from(&self.follow)));
        t.insert("block".into(), table(V::try_from(&self.block)));
        let mut gw = toml::Table::new();
        if let Some(g) = &self.gateway {
            gw.insert("listen".into(), V::String(g.listen.to_string()));
            gw.insert("title".into(), V::String(g.title.clone()));
        }
        t.insert("gateway".into(), V::Table(gw));
        let mut metrics = toml::Table::new();
        if let Some(m) = self.metrics {
            metrics.insert("listen".into(), V::String(m.to_string()));
        }
        t.insert("metrics".into(), V::Table(metrics));
        let mut trust = toml::Table::new();
        let int = |n: u64| V::Integer(i64::try_from(n).unwrap_or(i64::MAX));
        let l = &self.trust.limits;
        trust.insert("unknown_entries".into(), int(l.unknown_entries as u64));
        trust.insert(
            "unknown_per_publisher".into(),
            int(l.unknown_per_publisher.into()),
        );
        trust.insert("unknown_rate".into(), int(l.unknown_rate.into()));
        trust.insert("vouch_depth".into(), int(self.trust.vouch_depth.into()));
        t.insert("trust".into(), V::Table(trust));
        let from = match &self.file {
            Some(p) => format!("# read from {}", p.display()),
            None => "# no config file; defaults, environment and flags only".into(),
        };
        format!(
            "# weftd's effective configuration\n{from}\n# data dir: {}\n# keys left out are off or unlimited (storage.max, net.upload_limit, net.socks5, gateway.listen, metrics.listen)\n\n{}",
            self.data_dir.display(),
            toml::to_string(&t).unwrap_or_default()
        )
    }
}
