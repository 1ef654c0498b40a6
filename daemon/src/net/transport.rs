//! The transports a node dials and listens with.
//!
//! - TCP, with host names resolved by the system resolver;
//! - WebSocket over that TCP (`/tcp/PORT/ws`), and WebSocket in TLS
//!   (`/tcp/443/tls/ws`) when the operator supplies a certificate, so weft
//!   traffic looks like web traffic;
//! - QUIC, except in a private network (QUIC cannot carry the pnet
//!   handshake) and behind a SOCKS5 proxy (a proxy carries TCP only);
//! - with `net.socks5`, TCP and WebSocket dial through the proxy and nothing
//!   else dials at all.
//!
//! Every connection is then authenticated with noise and multiplexed with
//! yamux; in a private network the pnet handshake comes first. The relay
//! client transport is added by the swarm builder in `net::behaviour`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use libp2p::core::muxing::StreamMuxerBox;
use libp2p::core::transport::Boxed;
use libp2p::core::upgrade::Version;
use libp2p::{dns, identity, noise, pnet, quic, tcp, websocket, yamux, PeerId, Transport};
use tracing::warn;

/// TLS for WebSocket: the hub's own certificate, and extra certificates
/// this node trusts when it dials `wss` hubs (for self-signed hubs).
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// PEM certificate chain served on `/tls/ws` listeners.
    pub cert: Option<PathBuf>,
    /// PEM private key for that certificate.
    pub key: Option<PathBuf>,
    /// PEM certificates trusted besides the usual web roots.
    pub trust: Vec<PathBuf>,
}

/// What the transport stack needs from the config.
#[derive(Debug, Clone, Default)]
pub struct TransportOptions {
    /// The private network's pre-shared key.
    pub psk: Option<pnet::PreSharedKey>,
    /// Dial everything through this SOCKS5 proxy.
    pub socks5: Option<SocketAddr>,
    /// WebSocket TLS.
    pub tls: TlsOptions,
}

type Conn = (PeerId, StreamMuxerBox);

/// Noise, yamux and (in a private network) pnet on top of a byte stream.
fn secure<T>(t: T, key: &identity::Keypair, psk: Option<pnet::PreSharedKey>) -> Boxed<Conn>
where
    T: Transport + Send + Unpin + 'static,
    T::Output: futures::AsyncRead + futures::AsyncWrite + Unpin + Send + 'static,
    T::Error: Send + Sync + 'static,
    T::Dial: Send + 'static,
    T::ListenerUpgrade: Send + 'static,
{
    let noise = noise::Config::new(key).expect("an ed25519 key always makes a noise config");
    match psk {
        Some(psk) => t
            .and_then(move |socket, _| pnet::PnetConfig::new(psk).handshake(socket))
            .upgrade(Version::V1)
            .authenticate(noise)
            .multiplex(yamux::Config::default())
            .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)))
            .boxed(),
        None => t
            .upgrade(Version::V1)
            .authenticate(noise)
            .multiplex(yamux::Config::default())
            .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)))
            .boxed(),
    }
}

fn either(a: Boxed<Conn>, b: Boxed<Conn>) -> Boxed<Conn> {
    a.or_transport(b).map(|e, _| e.into_inner()).boxed()
}

fn read_pem(path: &PathBuf, what: &str) -> Result<Vec<Vec<u8>>, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read {what} {}: {e}", path.display()))?
        .collect();
    let certs = certs.map_err(|e| format!("{what} {} is not PEM: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{what} {} holds no certificate (expected -----BEGIN CERTIFICATE-----)",
            path.display()
        ));
    }
    Ok(certs.into_iter().map(|c| c.to_vec()).collect())
}

/// The TLS configuration for WebSocket: a server side when a certificate
/// and key are given, and a client side trusting the web's roots plus any
/// extra certificates.
pub fn tls_config(opts: &TlsOptions) -> Result<websocket::tls::Config, String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::PrivateKeyDer;
    let mut b = websocket::tls::Config::builder();
    match (&opts.cert, &opts.key) {
        (Some(cert), Some(key)) => {
            let certs = read_pem(cert, "net.tls_cert")?;
            let k = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                format!(
                    "net.tls_key {} is not a PEM private key (PKCS#8, PKCS#1 or SEC1): {e}",
                    key.display()
                )
            })?;
            let der = k.secret_der().to_vec();
            // `PrivateKey::new` panics on a key it cannot classify; check first.
            PrivateKeyDer::try_from(der.as_slice())
                .map_err(|e| format!("net.tls_key {}: {e}", key.display()))?;
            b.server(
                websocket::tls::PrivateKey::new(der),
                certs.into_iter().map(websocket::tls::Certificate::new),
            )
            .map_err(|e| {
                format!(
                    "net.tls_cert and net.tls_key do not make a TLS server (does the key match the certificate?): {e}"
                )
            })?;
        }
        (None, None) => {}
        _ => return Err("net.tls_cert and net.tls_key go together: set both or neither".into()),
    }
    for path in &opts.trust {
        for der in read_pem(path, "net.tls_trust")? {
            b.add_trust(&websocket::tls::Certificate::new(der))
                .map_err(|e| format!("net.tls_trust {}: {e}", path.display()))?;
        }
    }
    Ok(b.finish())
}

/// Wraps a transport so `/dns…` addresses go to the system resolver. The
/// resolver wraps whole transports, never one branch of an either: its dial
/// always starts, so an address it cannot serve would not fall through to
/// the next branch. Without a system resolver, only addresses work.
fn resolved<T>(make: impl Fn() -> T) -> Boxed<T::Output>
where
    T: Transport + Send + Unpin + 'static,
    T::Output: Send + 'static,
    T::Error: Send + Sync + 'static,
    T::Dial: Send + 'static,
    T::ListenerUpgrade: Send + 'static,
{
    match dns::tokio::Transport::system(make()) {
        Ok(d) => d.boxed(),
        Err(e) => {
            warn!(error = %e, "no system DNS resolver; /dns addresses will not work");
            make().boxed()
        }
    }
}

/// A byte stream that counts the bytes crossing it, both ways.
pub struct Counted<S> {
    inner: S,
    count: Arc<AtomicU64>,
}

impl<S> Counted<S> {
    fn add(&self, r: &Poll<std::io::Result<usize>>) {
        if let Poll::Ready(Ok(n)) = r {
            self.count.fetch_add(*n as u64, Ordering::Relaxed);
        }
    }
}

impl<S: futures::AsyncRead + Unpin> futures::AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        self.add(&r);
        r
    }
}

impl<S: futures::AsyncWrite + Unpin> futures::AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.add(&r);
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

/// The relay client's transport (connections through relays), upgraded
/// like the others and counting into `count` every byte it carries, so
/// that `weft status` can say how much went through relays. As before,
/// relayed connections carry no pnet handshake of their own.
pub fn relayed(
    key: &identity::Keypair,
    t: libp2p::relay::client::Transport,
    count: Arc<AtomicU64>,
) -> Boxed<Conn> {
    secure(
        t.map(move |inner, _| Counted {
            inner,
            count: count.clone(),
        }),
        key,
        None,
    )
}

/// Builds the whole transport stack for `key`.
pub fn build(key: &identity::Keypair, opts: &TransportOptions) -> Result<Boxed<Conn>, String> {
    let tls = tls_config(&opts.tls)?;
    let tcp = || tcp::tokio::Transport::new(tcp::Config::default().nodelay(true));
    if let Some(proxy) = opts.socks5 {
        // Host names go to the proxy unresolved: no DNS query leaves here.
        let mut ws = websocket::Config::new(crate::net::socks::Socks5Transport::new(proxy));
        ws.set_tls_config(tls);
        let plain = secure(
            crate::net::socks::Socks5Transport::new(proxy),
            key,
            opts.psk,
        );
        return Ok(either(secure(ws, key, opts.psk), plain));
    }
    // WebSocket refuses other addresses before dialling, so it goes first;
    // it resolves names itself, as TLS needs the name.
    let mut ws = websocket::Config::new(resolved(tcp));
    ws.set_tls_config(tls);
    let psk = opts.psk;
    let all = either(secure(ws, key, psk), resolved(|| secure(tcp(), key, psk)));
    if psk.is_some() {
        return Ok(all);
    }
    // QUIC refuses other addresses before dialling too. It takes addresses
    // only, no host names.
    let quic = quic::tokio::Transport::new(quic::Config::new(key))
        .map(|(peer, conn), _| (peer, StreamMuxerBox::new(conn)))
        .boxed();
    Ok(either(quic, all))
}
