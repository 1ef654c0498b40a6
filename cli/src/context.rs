//! What every command works with: `Ctx` (the data dir, the output mode and
//! the passphrase source), its calls to the daemon and to the daemon's jobs,
//! the answers they read (`Answer`), the passphrase prompt, and the default
//! data dir.

use std::io::IsTerminal;
use std::path::PathBuf;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use weft_protocol::api::{JobStarted, JobState, JobStatus, StatusResponse};
use weft_protocol::units::human;

use weft_cli::http::{Api, CallError};

/// How long one job poll may wait on the daemon, in milliseconds; also the
/// progress bar's refresh interval.
const JOB_POLL_MS: u64 = 200;

/// The data dir and the global flags, as every command needs them.
pub(crate) struct Ctx {
    pub(crate) dir: PathBuf,
    pub(crate) json: bool,
    pub(crate) passphrase_fd: Option<u32>,
}

/// What a command returns: done, or why not.
pub(crate) type Res = Result<(), CallError>;

/// An error that did not come from the daemon.
pub(crate) fn other(msg: impl Into<String>) -> CallError {
    CallError::Other(msg.into())
}

/// An answer of the daemon read into its type `T` from `weft_protocol::api`
/// (`data`, which the text output reads), and the JSON as the daemon sent
/// it (`raw`, which `--json` prints: the API's answer as is, `docs/cli.md`,
/// keys this weft does not know included).
pub(crate) struct Answer<T> {
    pub(crate) raw: Value,
    pub(crate) data: T,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Answer<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Value::deserialize(d)?;
        let data = T::deserialize(&raw).map_err(D::Error::custom)?;
        Ok(Self { raw, data })
    }
}

impl Ctx {
    fn api(&self) -> Result<Api, CallError> {
        Api::locate(&self.dir)
    }

    /// `GET path`, the answer read into `T`.
    pub(crate) fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, CallError> {
        self.api()?.get_json(path, &self.dir)
    }

    /// `POST path` with `body`, the answer read into `T`.
    pub(crate) fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Option<Value>,
    ) -> Result<T, CallError> {
        self.api()?.post_json(path, body.as_ref(), &self.dir)
    }

    /// A passphrase from `--passphrase-fd`, or asked on the terminal.
    pub(crate) fn read_passphrase(&self, prompt: &str) -> Result<String, CallError> {
        if let Some(fd) = self.passphrase_fd {
            use std::io::Read;
            let mut bytes = Vec::new();
            std::fs::File::open(format!("/proc/self/fd/{fd}"))
                .and_then(|f| {
                    f.take(weft_protocol::keyfile::MAX_PASSPHRASE_BYTES as u64 + 2)
                        .read_to_end(&mut bytes)
                })
                .map_err(|e| {
                    other(format!(
                        "cannot read the passphrase from file descriptor {fd}: {e}"
                    ))
                })?;
            return weft_protocol::keyfile::passphrase_from_bytes(&bytes)
                .map_err(|e| other(format!("file descriptor {fd}: {e}")));
        }
        if !std::io::stdin().is_terminal() {
            return Err(other(
                "the publisher key is protected by a passphrase and there is no terminal to ask on; pass it with --passphrase-fd FD",
            ));
        }
        let p = rpassword::prompt_password(prompt)
            .map_err(|e| other(format!("cannot read the passphrase: {e}")))?;
        weft_protocol::keyfile::passphrase_from_bytes(p.as_bytes())
            .map_err(|e| other(e.to_string()))
    }

    /// The passphrase to send with a request that signs, if the key is
    /// sealed and the daemon was not unlocked at start.
    pub(crate) fn passphrase_for_signing(&self) -> Result<Option<String>, CallError> {
        let path = self.dir.join(weft_protocol::layout::PUBLISHER_KEY);
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(None);
        };
        let Ok(file) = weft_protocol::keyfile::KeyFile::parse(&text) else {
            return Ok(None);
        };
        if !file.is_sealed() || !self.get::<StatusResponse>("/v1/status")?.publisher_locked {
            return Ok(None);
        }
        self.read_passphrase(&format!(
            "Passphrase for publisher key {}: ",
            file.publisher()
        ))
        .map(Some)
    }

    /// Prints `v` as pretty JSON (the one document `--json` prints).
    pub(crate) fn print_json(&self, v: &impl Serialize) -> Res {
        let text = serde_json::to_string_pretty(v)
            .map_err(|e| other(format!("cannot write the answer as JSON: {e}")))?;
        println!("{text}");
        Ok(())
    }

    fn show_progress(&self) -> bool {
        !self.json && std::io::stderr().is_terminal() && std::io::stdout().is_terminal()
    }

    /// Starts a job with a POST and waits for its result, read into `R`
    /// (the result type of the job's kind, or an [`Answer`] of it).
    pub(crate) fn run_job<R: DeserializeOwned>(
        &self,
        path: &str,
        body: Value,
        label: &str,
    ) -> Result<R, CallError> {
        let started: JobStarted = self.post(path, Some(body))?;
        self.wait_job(started.job, label)
    }

    /// Polls a job until it ends, drawing a progress bar on a terminal.
    fn wait_job<R: DeserializeOwned>(&self, job: u64, label: &str) -> Result<R, CallError> {
        let api = self.api()?;
        let bar = self.show_progress();
        // Each poll waits on the daemon until the job ends or the next
        // progress update is due, so the answer comes the moment it is done.
        loop {
            let v: JobStatus<R> =
                api.get_json(&format!("/v1/jobs/{job}?wait_ms={JOB_POLL_MS}"), &self.dir)?;
            let done = v.done_bytes;
            let total = v.total_bytes;
            match v.state {
                JobState::Done => {
                    if bar {
                        eprintln!("\r{label} {} 100%{:20}", human(total), "");
                    }
                    return v.result.ok_or_else(|| {
                        other(format!("weftd ended job {job} without a result; is it the same version as this weft?"))
                    });
                }
                JobState::Failed => {
                    if bar {
                        eprintln!();
                    }
                    return Err(CallError::Api {
                        status: v.status.unwrap_or(500),
                        message: v.error.unwrap_or_else(|| "the job failed".to_string()),
                    });
                }
                JobState::Running => {
                    if bar {
                        let pct = (done * 100).checked_div(total).unwrap_or(0).min(100);
                        let filled = (pct / 4) as usize;
                        eprint!(
                            "\r{label} [{}{}] {pct:3}% {} / {}   ",
                            "#".repeat(filled),
                            ".".repeat(25 - filled.min(25)),
                            human(done),
                            human(total)
                        );
                    }
                }
            }
        }
    }
}

/// The data dir when neither --data-dir nor WEFT_HOME names one.
pub(crate) fn default_data_dir() -> PathBuf {
    weft_protocol::layout::default_data_dir(
        std::env::var_os("XDG_DATA_HOME").as_deref(),
        std::env::var_os("HOME").as_deref(),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use weft_protocol::api::{BundleDetails, FetchResult};

    use super::*;

    /// `GET /v1/bundles/{id}` of a stored bundle as the daemon writes it:
    /// keys in byte order at every level, `texts` included.
    fn details() -> Value {
        let h = "ab".repeat(32);
        json!({
            "contested": false, "created": 1, "files": 1, "id": h, "local": true, "name": "guide", "pin": "explicit",
            "pinned": true, "publisher": h, "retracted": false, "seq": 2, "size": 3,
            "superseded_by": null, "tags": [], "tier": "trusted",
            "titles": [{"lang": "en", "title": "Guide"}],
            "licence": "", "file_list": [{"hash": h, "path": "a.txt", "size": 3}],
            "texts": [{"description": "", "lang": "en", "title": "Guide"}],
            "added_later": {"z": 1, "a": 2},
        })
    }

    #[test]
    fn an_answer_keeps_the_json_as_the_daemon_sent_it() {
        let a: Answer<BundleDetails> = serde_json::from_value(details()).unwrap();
        assert_eq!(a.data.name, "guide");
        // `--json` prints the answer as is: a key this weft does not know
        // is kept, where the type would drop it.
        let printed = serde_json::to_string_pretty(&a.raw).unwrap();
        assert_eq!(printed, serde_json::to_string_pretty(&details()).unwrap());
        assert!(printed.contains("added_later"));
        let typed = serde_json::to_string_pretty(&a.data).unwrap();
        assert_ne!(typed, printed);
    }

    #[test]
    fn an_answer_of_another_shape_does_not_read() {
        let mut v = details();
        v.as_object_mut().unwrap().remove("seq");
        let e = serde_json::from_value::<Answer<BundleDetails>>(v)
            .err()
            .unwrap();
        assert!(e.to_string().contains("missing field `seq`"), "{e}");
    }

    #[test]
    fn a_job_result_reads_as_an_answer() {
        let h = "cd".repeat(32);
        let result = json!({"files": 1, "id": h, "name": "guide", "out": null, "pinned": true,
            "size": 3});
        let job = json!({"done_bytes": 3, "error": null, "job": 4, "kind": "fetch",
            "result": result, "state": "done", "status": null, "total_bytes": 3});
        let s: JobStatus<Answer<FetchResult>> = serde_json::from_value(job).unwrap();
        let a = s.result.unwrap();
        assert_eq!((a.raw, a.data.name.as_str()), (result, "guide"));
        let running = json!({"done_bytes": 0, "error": null, "job": 4, "kind": "fetch",
            "result": null, "state": "running", "status": null, "total_bytes": 0});
        let s: JobStatus<Answer<FetchResult>> = serde_json::from_value(running).unwrap();
        assert!(s.result.is_none());
    }
}
