//! A minimal HTTP/1.1 client for the daemon's loopback API.
//!
//! The API is always on 127.0.0.1 and speaks plain JSON, so a few dozen
//! lines over `TcpStream` do the job without a TLS-capable HTTP stack.
//!
//! [`Api::get_json`], [`Api::post_json`] and [`Api::call_json`] read an
//! answer into its type from `weft_protocol::api`; [`Api::call`] returns it
//! as a `serde_json::Value`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;
use weft_protocol::api::ErrorResponse;

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
    /// The body is `null` when it is not JSON.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        dir: &Path,
    ) -> Result<Value, CallError> {
        let payload = self.send(method, path, body, dir)?;
        Ok(serde_json::from_slice(&payload).unwrap_or(Value::Null))
    }

    /// Sends one request; returns the body read into `T`, the route's
    /// response type from `weft_protocol::api`, or the daemon's error. Keys
    /// that `T` does not know are ignored; a body that does not read as `T`
    /// (a key missing or of another type) is an error.
    pub fn call_json<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        dir: &Path,
    ) -> Result<T, CallError> {
        let payload = self.send(method, path, body, dir)?;
        serde_json::from_slice(&payload).map_err(|e| {
            let route = path.split('?').next().unwrap_or(path);
            CallError::Other(format!(
                "weftd's answer to {method} {route} does not read as this weft expects ({e}); is it the same version as this weft?"
            ))
        })
    }

    /// `GET path`, the answer read into `T` (see [`Api::call_json`]).
    pub fn get_json<T: DeserializeOwned>(&self, path: &str, dir: &Path) -> Result<T, CallError> {
        self.call_json("GET", path, None, dir)
    }

    /// `POST path` with `body`, the answer read into `T` (see
    /// [`Api::call_json`]).
    pub fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Option<&Value>,
        dir: &Path,
    ) -> Result<T, CallError> {
        self.call_json("POST", path, body, dir)
    }

    /// Sends one request; returns the body of a successful answer, or the
    /// daemon's error (its `error` sentence, else the HTTP status).
    fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        dir: &Path,
    ) -> Result<Vec<u8>, CallError> {
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
        if status >= 400 {
            let message = serde_json::from_slice::<ErrorResponse>(&payload)
                .map(|e| e.error)
                .unwrap_or_else(|_| format!("weftd answered with HTTP {status}"));
            return Err(CallError::Api { status, message });
        }
        Ok(payload)
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

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use weft_protocol::api::{ConnectResponse, UnpinResponse};

    use super::*;

    /// An `Api` whose daemon answers one request with `status` and `body`.
    fn answering(status: u16, body: &'static str) -> (Api, std::thread::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && s.read(&mut byte).unwrap() == 1 {
                head.push(byte[0]);
            }
            let answer = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            s.write_all(answer.as_bytes()).unwrap();
        });
        let api = Api {
            addr,
            token: "t".into(),
        };
        (api, server)
    }

    fn get<T: DeserializeOwned>(status: u16, body: &'static str) -> Result<T, CallError> {
        let (api, server) = answering(status, body);
        let got = api.get_json::<T>("/v1/x?wait_ms=1", Path::new("/d"));
        server.join().unwrap();
        got
    }

    #[test]
    fn an_answer_reads_into_its_type_and_unknown_keys_are_ignored() {
        let r: ConnectResponse = get(200, r#"{"peer_id": "12D3a", "added_later": [1]}"#).unwrap();
        assert_eq!(r.peer_id, "12D3a");
    }

    #[test]
    fn an_answer_of_another_shape_is_an_error_naming_the_route() {
        let e = get::<UnpinResponse>(200, r#"{"id": "nope", "pinned": false}"#).unwrap_err();
        let CallError::Other(m) = e else {
            panic!("{e:?}")
        };
        assert!(
            m.starts_with("weftd's answer to GET /v1/x does not read"),
            "{m}"
        );
        let e = get::<ConnectResponse>(200, "{}").unwrap_err();
        assert!(e.to_string().contains("missing field `peer_id`"), "{e}");
    }

    #[test]
    fn an_error_answer_is_its_sentence_or_its_status() {
        let e = get::<ConnectResponse>(404, r#"{"error": "no such bundle"}"#).unwrap_err();
        assert!(
            matches!(e, CallError::Api { status: 404, ref message } if message == "no such bundle")
        );
        let e = get::<ConnectResponse>(500, r#"{"nope": 1}"#).unwrap_err();
        assert!(
            matches!(e, CallError::Api { status: 500, ref message } if message == "weftd answered with HTTP 500")
        );
    }
}
