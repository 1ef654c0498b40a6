//! Dialling through a SOCKS5 proxy (RFC 1928), for users who route weft
//! through Tor or another proxy.
//!
//! [`Socks5Transport`] is a TCP transport whose every dial goes to the
//! proxy: it opens a TCP connection to the proxy and asks it, with a
//! CONNECT command, to reach the peer. Host names in `/dns…` addresses are
//! passed to the proxy unresolved, so no DNS query leaves this machine
//! either. Listening is plain TCP (a node behind a proxy may still accept
//! connections on its own LAN). Addresses that are not TCP (QUIC, UDP) are
//! not supported at all, so nothing is ever dialled around the proxy.
//!
//! Only the "no authentication" method is offered; that is what Tor's
//! SocksPort and most local proxies accept.

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use libp2p::core::transport::{DialOpts, ListenerId, TransportError, TransportEvent};
use libp2p::core::Transport;
use libp2p::multiaddr::Protocol;
use libp2p::{tcp, Multiaddr};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Longest wait for the proxy to connect us to a peer (Tor can be slow).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(60);

/// Where a dial should go, as the proxy is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An IP address and port.
    Ip(SocketAddr),
    /// A host name (at most 255 bytes) and port, resolved by the proxy.
    Domain(String, u16),
}

/// The target of a TCP multiaddr: `/ip4|ip6|dns|dns4|dns6/…/tcp/PORT`,
/// optionally followed by `/p2p/…`. Anything else is not for this transport.
pub fn target_of(addr: &Multiaddr) -> Option<Target> {
    let mut it = addr.iter();
    let host = it.next()?;
    let port = match it.next()? {
        Protocol::Tcp(p) if p != 0 => p,
        _ => return None,
    };
    match it.next() {
        None | Some(Protocol::P2p(_)) => {}
        _ => return None,
    }
    if it.next().is_some() {
        return None;
    }
    match host {
        Protocol::Ip4(ip) => Some(Target::Ip(SocketAddr::new(IpAddr::V4(ip), port))),
        Protocol::Ip6(ip) => Some(Target::Ip(SocketAddr::new(IpAddr::V6(ip), port))),
        Protocol::Dns(h) | Protocol::Dns4(h) | Protocol::Dns6(h) => {
            (!h.is_empty() && h.len() <= 255).then(|| Target::Domain(h.to_string(), port))
        }
        _ => None,
    }
}

/// Why the proxy did not connect us, in the words of RFC 1928's reply codes.
fn reply_text(code: u8) -> &'static str {
    match code {
        1 => "general failure of the proxy",
        2 => "the proxy's rules do not allow this connection",
        3 => "the proxy cannot reach that network",
        4 => "the proxy cannot reach that host",
        5 => "the peer refused the proxy's connection",
        6 => "the peer did not answer the proxy in time",
        7 => "the proxy does not support CONNECT",
        8 => "the proxy does not support this kind of address",
        _ => "the proxy gave an unknown reply code",
    }
}

fn proto_err(msg: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.into())
}

/// Runs the SOCKS5 client handshake on a fresh connection to the proxy:
/// method negotiation (no authentication), then CONNECT to `target`.
/// Every length read from the proxy is bounded before it is used.
pub async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    target: &Target,
) -> std::io::Result<()> {
    s.write_all(&[5, 1, 0]).await?;
    let mut choice = [0u8; 2];
    s.read_exact(&mut choice).await?;
    if choice[0] != 5 {
        return Err(proto_err("that address is not a SOCKS5 proxy"));
    }
    if choice[1] != 0 {
        return Err(proto_err(
            "the SOCKS5 proxy requires authentication, which weft does not offer",
        ));
    }
    let mut req = vec![5, 1, 0];
    let port = match target {
        Target::Ip(SocketAddr::V4(a)) => {
            req.push(1);
            req.extend_from_slice(&a.ip().octets());
            a.port()
        }
        Target::Ip(SocketAddr::V6(a)) => {
            req.push(4);
            req.extend_from_slice(&a.ip().octets());
            a.port()
        }
        Target::Domain(host, port) => {
            let len = u8::try_from(host.len())
                .map_err(|_| proto_err("host name longer than 255 bytes"))?;
            req.push(3);
            req.push(len);
            req.extend_from_slice(host.as_bytes());
            *port
        }
    };
    req.extend_from_slice(&port.to_be_bytes());
    s.write_all(&req).await?;
    let mut head = [0u8; 4];
    s.read_exact(&mut head).await?;
    if head[0] != 5 {
        return Err(proto_err("malformed reply from the SOCKS5 proxy"));
    }
    if head[1] != 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            format!("SOCKS5 proxy: {}", reply_text(head[1])),
        ));
    }
    // The address the proxy bound, which weft does not need: read past it.
    let skip = match head[3] {
        1 => 4,
        4 => 16,
        3 => {
            let mut len = [0u8; 1];
            s.read_exact(&mut len).await?;
            usize::from(len[0])
        }
        _ => {
            return Err(proto_err(
                "the SOCKS5 proxy replied with an unknown address type",
            ))
        }
    };
    let mut rest = [0u8; 255 + 2];
    s.read_exact(&mut rest[..skip + 2]).await?;
    Ok(())
}

/// TCP through a SOCKS5 proxy for dialling, plain TCP for listening.
pub struct Socks5Transport {
    proxy: SocketAddr,
    listen: tcp::tokio::Transport,
}

impl Socks5Transport {
    /// Dials through `proxy`.
    pub fn new(proxy: SocketAddr) -> Self {
        Self {
            proxy,
            listen: tcp::tokio::Transport::new(tcp::Config::default().nodelay(true)),
        }
    }
}

impl Transport for Socks5Transport {
    type Output = tcp::tokio::TcpStream;
    type Error = std::io::Error;
    type ListenerUpgrade = <tcp::tokio::Transport as Transport>::ListenerUpgrade;
    type Dial = BoxFuture<'static, std::io::Result<tcp::tokio::TcpStream>>;

    fn listen_on(
        &mut self,
        id: ListenerId,
        addr: Multiaddr,
    ) -> Result<(), TransportError<Self::Error>> {
        self.listen.listen_on(id, addr)
    }

    fn remove_listener(&mut self, id: ListenerId) -> bool {
        self.listen.remove_listener(id)
    }

    fn dial(
        &mut self,
        addr: Multiaddr,
        _opts: DialOpts,
    ) -> Result<Self::Dial, TransportError<Self::Error>> {
        let Some(target) = target_of(&addr) else {
            return Err(TransportError::MultiaddrNotSupported(addr));
        };
        let proxy = self.proxy;
        Ok(async move {
            let connect = async {
                let mut s = tokio::net::TcpStream::connect(proxy).await.map_err(|e| {
                    std::io::Error::new(e.kind(), format!("SOCKS5 proxy at {proxy}: {e}"))
                })?;
                s.set_nodelay(true)?;
                handshake(&mut s, &target).await?;
                Ok(tcp::tokio::TcpStream(s))
            };
            tokio::time::timeout(HANDSHAKE_TIMEOUT, connect)
                .await
                .map_err(|_| {
                    std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("the SOCKS5 proxy at {proxy} did not connect us in time"),
                    )
                })?
        }
        .boxed())
    }

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<TransportEvent<Self::ListenerUpgrade, Self::Error>> {
        Pin::new(&mut self.listen).poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = |s: &str| target_of(&s.parse().unwrap());
        assert_eq!(
            t("/ip4/10.0.0.1/tcp/443"),
            Some(Target::Ip("10.0.0.1:443".parse().unwrap()))
        );
        assert_eq!(
            t("/dns4/hub.example/tcp/4141/p2p/12D3KooWLRPJAA5o6gJNGv7iGKq1vE8Nj7uAVJ9Bm4NuYTXbNjQ1"),
            Some(Target::Domain("hub.example".into(), 4141))
        );
        assert_eq!(t("/ip4/10.0.0.1/udp/4141/quic-v1"), None);
        assert_eq!(t("/ip4/10.0.0.1/tcp/0"), None);
        assert_eq!(t("/ip4/10.0.0.1/tcp/443/ws"), None);
    }

    /// A proxy played by a script of bytes: what it expects, what it says.
    async fn against(reply: Vec<u8>, target: Target) -> (std::io::Result<()>, Vec<u8>) {
        let (mut client, mut proxy) = tokio::io::duplex(1024);
        let server = tokio::spawn(async move {
            let mut got = vec![0u8; 3];
            proxy.read_exact(&mut got).await.unwrap();
            proxy.write_all(&reply[..2]).await.unwrap();
            let mut req = vec![0u8; 512];
            let n = proxy.read(&mut req).await.unwrap();
            got.extend_from_slice(&req[..n]);
            proxy.write_all(&reply[2..]).await.unwrap();
            got
        });
        let r = handshake(&mut client, &target).await;
        drop(client);
        (r, server.await.unwrap())
    }

    #[tokio::test]
    async fn connect_by_name_and_by_address() {
        let ok = vec![5, 0, 5, 0, 0, 1, 127, 0, 0, 1, 0x10, 0x2d];
        let (r, sent) = against(ok.clone(), Target::Domain("hub.example".into(), 443)).await;
        r.unwrap();
        let mut want = vec![5, 1, 0, 5, 1, 0, 3, 11];
        want.extend_from_slice(b"hub.example");
        want.extend_from_slice(&[1, 187]);
        assert_eq!(sent, want);
        let (r, sent) = against(ok, Target::Ip("10.1.2.3:4141".parse().unwrap())).await;
        r.unwrap();
        assert_eq!(sent, vec![5, 1, 0, 5, 1, 0, 1, 10, 1, 2, 3, 0x10, 0x2d]);
        // A bound address given as a name is read past, whatever its length.
        let mut named = vec![5, 0, 5, 0, 0, 3, 255];
        named.extend_from_slice(&[b'x'; 255]);
        named.extend_from_slice(&[0, 1]);
        let (r, _) = against(named, Target::Ip("10.1.2.3:1".parse().unwrap())).await;
        r.unwrap();
    }

    #[tokio::test]
    async fn refusals_are_explained() {
        let target = Target::Ip("10.1.2.3:4141".parse().unwrap());
        let (r, _) = against(vec![5, 0, 5, 5, 0, 1, 0, 0, 0, 0, 0, 0], target.clone()).await;
        let e = r.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);
        assert!(e.to_string().contains("refused"), "{e}");
        let (r, _) = against(vec![5, 2], target.clone()).await;
        assert!(r.unwrap_err().to_string().contains("authentication"));
        let (r, _) = against(vec![4, 0], target.clone()).await;
        assert!(r.unwrap_err().to_string().contains("not a SOCKS5 proxy"));
        let (r, _) = against(vec![5, 0, 5, 0, 0, 9], target).await;
        assert!(r.unwrap_err().to_string().contains("unknown address type"));
    }
}
