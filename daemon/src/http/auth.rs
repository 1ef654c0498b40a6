//! Who may call the API: the token, the Host and Origin checks, and the
//! web UI's login codes and sessions.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::RngCore;

use super::error::ApiError;
use super::{ui, ApiState, MAX_BODY_BYTES};

/// Whether two secrets are equal, in time that does not depend on where
/// they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) async fn guard(State(st): State<ApiState>, req: Request, next: Next) -> Response {
    let port = st.addr.port();
    let headers = req.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let hosts = [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ];
    if !hosts.iter().any(|h| h == host) {
        return ApiError(
            StatusCode::MISDIRECTED_REQUEST,
            format!("Host {host:?} is not this API; use http://127.0.0.1:{port}"),
        )
        .into_response();
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let ok = origin.to_str().is_ok_and(|o| {
            o == format!("http://127.0.0.1:{port}") || o == format!("http://localhost:{port}")
        });
        if !ok {
            return ApiError(
                StatusCode::FORBIDDEN,
                "requests from other web origins are refused".into(),
            )
            .into_response();
        }
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("");
    let path = req.uri().path();
    // The login link's code is its own credential.
    let login = path == "/ui/login";
    let by_token = constant_time_eq(token.as_bytes(), st.token.as_bytes());
    let by_session = !by_token
        && sessions_of(headers, port)
            .iter()
            .any(|s| st.sessions.valid(s));
    if !(login || by_token || by_session) {
        if path.starts_with("/ui/") || path == "/ui" {
            return ui::login_needed(headers);
        }
        return ApiError(
            StatusCode::UNAUTHORIZED,
            "missing or wrong API token; the token is in api.token in the data dir".into(),
        )
        .into_response();
    }
    // A browser's change must say where it comes from; the check above
    // has made sure that, if it does, it is this listener.
    if by_session
        && req.method() != axum::http::Method::GET
        && req.method() != axum::http::Method::HEAD
        && !headers.contains_key(header::ORIGIN)
    {
        return ApiError(
            StatusCode::FORBIDDEN,
            "a change made with the web UI's session must carry the page's Origin".into(),
        )
        .into_response();
    }
    let response = next.run(req).await;
    // Errors the framework raises itself (wrong method, body too large,
    // unreadable body) get the same JSON shape as the API's own.
    let status = response.status();
    // (The web UI's own pages for a person, in HTML, stay as they are.)
    let ours = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| {
            v.as_bytes().starts_with(b"application/json") || v.as_bytes().starts_with(b"text/html")
        });
    if status.is_client_error() && !ours {
        let msg = match status {
            StatusCode::METHOD_NOT_ALLOWED => {
                "wrong method for this route: reads are GET, changes are POST".to_string()
            }
            StatusCode::PAYLOAD_TOO_LARGE => {
                format!("the request body is over the API's limit of {MAX_BODY_BYTES} bytes")
            }
            s => format!("bad request ({s})"),
        };
        return ApiError(status, msg).into_response();
    }
    response
}

/// How long a login code works.
pub const CODE_TTL: Duration = Duration::from_secs(120);

/// Login codes waiting at once; the oldest goes first.
const MAX_CODES: usize = 16;

/// Sessions at once; the oldest goes first.
const MAX_SESSIONS: usize = 32;

pub(crate) fn random_hex() -> String {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    weft_protocol::id::to_hex(&raw)
}

fn same(a: &str, b: &str) -> bool {
    constant_time_eq(a.as_bytes(), b.as_bytes())
}

#[derive(Default)]
struct Inner {
    codes: VecDeque<(String, Instant)>,
    sessions: VecDeque<String>,
}

/// Login codes and sessions of the web UI.
#[derive(Default)]
pub struct Sessions {
    inner: Mutex<Inner>,
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new one-time login code.
    pub fn new_code(&self) -> String {
        let code = random_hex();
        let mut i = self.lock();
        if i.codes.len() >= MAX_CODES {
            i.codes.pop_front();
        }
        i.codes.push_back((code.clone(), Instant::now()));
        code
    }

    /// Swaps a fresh code for a new session id; a code works once.
    pub fn redeem(&self, code: &str) -> Option<String> {
        let mut i = self.lock();
        i.codes.retain(|(_, at)| at.elapsed() < CODE_TTL);
        let pos = i.codes.iter().position(|(c, _)| same(c, code))?;
        i.codes.remove(pos);
        let session = random_hex();
        if i.sessions.len() >= MAX_SESSIONS {
            i.sessions.pop_front();
        }
        i.sessions.push_back(session.clone());
        Some(session)
    }

    /// Whether `session` is a live session.
    pub fn valid(&self, session: &str) -> bool {
        let i = self.lock();
        // Every entry is compared, so the time taken says nothing.
        i.sessions.iter().fold(false, |ok, s| ok | same(s, session))
    }
}

/// The session cookie's name for the API on `port`.
pub fn cookie_name(port: u16) -> String {
    format!("weft_session_{port}")
}

/// Every value the request's cookies give the session cookie's name (a
/// page on another port of this host can set one too, so each is tried).
pub fn sessions_of(headers: &HeaderMap, port: u16) -> Vec<String> {
    let name = cookie_name(port);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .filter(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .take(8)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_works_once_and_sessions_are_checked() {
        let s = Sessions::default();
        let code = s.new_code();
        assert!(s.redeem("0".repeat(64).as_str()).is_none());
        let session = s.redeem(&code).expect("a fresh code works");
        assert!(s.redeem(&code).is_none(), "a code works only once");
        assert!(s.valid(&session));
        assert!(!s.valid(&random_hex()));
        for _ in 0..MAX_SESSIONS {
            let c = s.new_code();
            s.redeem(&c).unwrap();
        }
        assert!(!s.valid(&session), "the oldest session goes first");
    }

    #[test]
    fn the_cookie_is_found_by_its_port_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; weft_session_4152=other; weft_session_4142=mine"
                .parse()
                .unwrap(),
        );
        assert_eq!(sessions_of(&h, 4142), ["mine"]);
        assert!(sessions_of(&h, 9).is_empty());
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "weft_session_4142=planted; weft_session_4142=mine"
                .parse()
                .unwrap(),
        );
        assert_eq!(sessions_of(&h, 4142), ["planted", "mine"]);
    }
}
