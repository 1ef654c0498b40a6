//! A minimal HTTP/1.1 client for the daemon's loopback API.
//!
//! The API is always on 127.0.0.1 and speaks plain JSON, so a few dozen
//! lines over `TcpStream` do the job without a TLS-capable HTTP stack.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

/// Largest response the CLI reads.
const MAX_RESPONSE: u64 = 64 << 20;

/// What went wrong talking to the daemon, in words for a person.
#[derive(Debug)]
pub enum CallError {
    /// The daemon is not running or not reachable.
    NotRunning(String),
    /// The daemon answered with an error.
    Api {
        /// HTTP status.
        status: u16,
        /// The daemon's sentence.
        message: String,
    },
    /// Anything else.
    Other(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::NotRunning(m) | CallError::Other(m) => f.write_str(m),
            CallError::Api { message, .. } => f.write_str(message),
        }
    }
}

/// A connection to the daemon of one data dir.
pub struct Api {
    addr: String,
    token: String,
}

fn start_hint(dir: &Path) -> String {
    format!(
        "weftd is not running for {}. Start it with `weftd --data-dir {}` (or just `weftd` for the default data dir)",
        dir.display(),
        dir.display()
    )
}

impl Api {
    /// Finds the daemon's address and token in `dir`.
    pub fn locate(dir: &Path) -> Result<Self, CallError> {
        let read = |name: &str| -> Result<String, CallError> {
            let p: PathBuf = dir.join(name);
            match std::fs::read_to_string(&p) {
                Ok(s) => Ok(s.trim().to_string()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Err(CallError::NotRunning(start_hint(dir)))
                }
                Err(e) => Err(CallError::Other(format!(
                    "cannot read {}: {e}",
                    p.display()
                ))),
            }
        };
        let addr = read(weft_protocol::layout::API_ADDR)?;
        let token = read(weft_protocol::layout::API_TOKEN)?;
        Ok(Self { addr, token })
    }

    /// Sends one request; returns the JSON body, or the daemon's error.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        dir: &Path,
    ) -> Result<Value, CallError> {
        let mut stream = TcpStream::connect(&self.addr).map_err(|e| match e.kind() {
            std::io::ErrorKind::ConnectionRefused => CallError::NotRunning(start_hint(dir)),
            _ => CallError::Other(format!("cannot reach weftd at {}: {e}", self.addr)),
        })?;
        let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            self.token,
            body.len()
        );
        stream
            .write_all(req.as_bytes())
            .map_err(|e| CallError::Other(format!("sending to weftd failed: {e}")))?;
        let mut raw = Vec::new();
        stream
            .take(MAX_RESPONSE)
            .read_to_end(&mut raw)
            .map_err(|e| CallError::Other(format!("reading from weftd failed: {e}")))?;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| CallError::Other("weftd sent a malformed response".into()))?;
        let head = String::from_utf8_lossy(&raw[..split]).to_string();
        let mut payload = raw[split + 4..].to_vec();
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| CallError::Other("weftd sent a malformed status line".into()))?;
        if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            payload = dechunk(&payload)
                .ok_or_else(|| CallError::Other("weftd sent a malformed body".into()))?;
        }
        let value: Value = serde_json::from_slice(&payload).unwrap_or(Value::Null);
        if status >= 400 {
            let message = value
                .get("error")
                .and_then(|m| m.as_str())
                .map(str::to_string)
                .unwrap_or_else(|| format!("weftd answered with HTTP {status}"));
            return Err(CallError::Api { status, message });
        }
        Ok(value)
    }
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_str = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_str.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        if data.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}
