//! Jobs: the long operations (publish, fetch, check, export, import) answer
//! at once with a job number, and the client polls `GET /v1/jobs/{id}`.
//!
//! [`JobStatus`] is generic over its result. A client polls the job it
//! started, so it knows the kind and reads `JobStatus<PublishResult>`,
//! `JobStatus<FetchResult>` and so on, with no enum to match and no way to
//! get another kind's result by mistake. A reader that does not know the
//! kind (a log, a test harness) uses the default, [`JobResult`], which
//! tells the kinds apart by their fields. One enum for the whole job,
//! tagged by `kind` with `result` as its content, would have needed
//! `#[serde(flatten)]` (the job's other fields sit beside the two), which
//! reads through serde's buffered content and makes every client that
//! knows what it started match on the kinds it did not start.

use serde::{Deserialize, Serialize};

use super::{CheckReport, ExportResult, FetchResult, ImportResult, PublishResult};

/// `POST /v1/publish`, `POST /v1/fetch`, `POST /v1/check`,
/// `POST /v1/export`, `POST /v1/import`: the job started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobStarted {
    /// The job number, for `GET /v1/jobs/{id}`; counts up from 1 from the
    /// daemon's start.
    pub job: u64,
}

/// What a job does: the route that started it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// `POST /v1/publish`; result [`PublishResult`].
    Publish,
    /// `POST /v1/fetch`; result [`FetchResult`].
    Fetch,
    /// `POST /v1/check`; result [`CheckReport`].
    Check,
    /// `POST /v1/export`; result [`ExportResult`].
    Export,
    /// `POST /v1/import`; result [`ImportResult`].
    Import,
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Still going.
    Running,
    /// Finished; `result` holds its result.
    Done,
    /// Failed; `error` and `status` say why.
    Failed,
}

/// `GET /v1/jobs/{id}`: a job's state and progress. `R` is the result of
/// the job's kind ([`PublishResult`], [`FetchResult`], [`CheckReport`],
/// [`ExportResult`], [`ImportResult`]), or [`JobResult`] for any kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobStatus<R = JobResult> {
    /// Bytes done so far (what a byte counts as depends on the kind).
    pub done_bytes: u64,
    /// When `failed`: the message; otherwise null.
    pub error: Option<String>,
    /// The job number.
    pub job: u64,
    /// What the job does.
    pub kind: JobKind,
    /// When `done`: the job's result; otherwise null.
    pub result: Option<R>,
    /// Running, done or failed.
    pub state: JobState,
    /// When `failed`: the HTTP status the error maps to; otherwise null.
    pub status: Option<u16>,
    /// Bytes expected in all; 0 until known, and for `check`.
    pub total_bytes: u64,
}

/// The result of a job of any kind, for a reader that does not know the
/// kind. It has no tag of its own (the job's `kind` is beside it): it reads
/// as the first kind whose required fields are all there, in the order of
/// the variants, which no two kinds' results share. A reader that knows the
/// kind should use that kind's result type instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum JobResult {
    /// A publish: has `publisher` and `seq`.
    Publish(PublishResult),
    /// A fetch: has `pinned`.
    Fetch(FetchResult),
    /// A check: has `blocks`.
    Check(CheckReport),
    /// An export: `bundles` and `files` are arrays.
    Export(ExportResult),
    /// An import: has `imported`.
    Import(ImportResult),
}

impl JobResult {
    /// The kind of job this is the result of, to compare with the job's
    /// `kind`.
    pub fn kind(&self) -> JobKind {
        match self {
            Self::Publish(_) => JobKind::Publish,
            Self::Fetch(_) => JobKind::Fetch,
            Self::Check(_) => JobKind::Check,
            Self::Export(_) => JobKind::Export,
            Self::Import(_) => JobKind::Import,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::{json, Value};

    use super::*;
    use crate::api::test_util::{api_example, bid, check, doc_example, hex, publish_result};
    use crate::api::{ArchiveFile, ExportedBundle, ImportedBundle};

    const JOB: &str = "### `GET /v1/jobs/{id}`";

    /// The daemon's job poll: api.rs `job`, for the same data.
    fn daemon_job(kind: &str, state: &str, result: Value, error: Value, code: Value) -> Value {
        json!({
            "job": 9, "kind": kind, "state": state, "done_bytes": 10, "total_bytes": 50,
            "result": result, "error": error, "status": code,
        })
    }

    #[test]
    fn a_started_job_is_its_number() {
        check(&JobStarted { job: 7 }, json!({ "job": 7 }));
    }

    #[test]
    fn a_running_job_has_nulls() {
        let s: JobStatus<PublishResult> = JobStatus {
            done_bytes: 10,
            error: None,
            job: 9,
            kind: JobKind::Publish,
            result: None,
            state: JobState::Running,
            status: None,
            total_bytes: 50,
        };
        check(
            &s,
            daemon_job("publish", "running", Value::Null, Value::Null, Value::Null),
        );
    }

    #[test]
    fn a_done_job_carries_its_result() {
        let s = JobStatus {
            done_bytes: 10,
            error: None,
            job: 9,
            kind: JobKind::Publish,
            result: Some(publish_result()),
            state: JobState::Done,
            status: None,
            total_bytes: 50,
        };
        let result = json!({
            "id": hex(1), "name": "water-guide", "seq": 3, "publisher": hex(2),
            "files": 14, "size": 52_428_800,
        });
        let expected = daemon_job("publish", "done", result, Value::Null, Value::Null);
        check(&s, expected.clone());
        // The same JSON read without knowing the kind.
        let any: JobStatus = serde_json::from_value(expected.clone()).unwrap();
        assert_eq!(
            any.result.as_ref().map(JobResult::kind),
            Some(JobKind::Publish)
        );
        check(&any, expected);
    }

    #[test]
    fn a_failed_job_has_an_error_and_a_status() {
        let s: JobStatus<FetchResult> = JobStatus {
            done_bytes: 10,
            error: Some("this node is not connected to any peer".into()),
            job: 9,
            kind: JobKind::Fetch,
            result: None,
            state: JobState::Failed,
            status: Some(503),
            total_bytes: 50,
        };
        let expected = daemon_job(
            "fetch",
            "failed",
            Value::Null,
            json!("this node is not connected to any peer"),
            json!(503u16),
        );
        check(&s, expected);
    }

    #[test]
    fn every_kind_of_result_reads_as_its_own_kind() {
        let results = [
            JobResult::Publish(publish_result()),
            JobResult::Fetch(FetchResult {
                files: 2,
                id: bid(1),
                name: "water-guide".into(),
                out: Some(PathBuf::from("/home/ana/water-guide")),
                pinned: false,
                size: 9,
            }),
            JobResult::Check(CheckReport {
                blocks: 5,
                bundles: 2,
                bytes: 9,
                damaged: vec![],
                interrupted_fetches: 0,
                orphans: 0,
            }),
            JobResult::Export(ExportResult {
                bundles: vec![ExportedBundle {
                    id: bid(1),
                    name: "a".into(),
                    seq: 1,
                }],
                files: vec![ArchiveFile {
                    bytes: 9,
                    id: None,
                    path: "/media/usb/a.weft".into(),
                }],
            }),
            JobResult::Import(ImportResult {
                already_here: vec![],
                blocked: vec![],
                files: 1,
                imported: vec![ImportedBundle {
                    announced: true,
                    id: bid(1),
                    name: "a".into(),
                    seq: 1,
                    size: 9,
                }],
                refused: vec![],
            }),
        ];
        let kinds = [
            JobKind::Publish,
            JobKind::Fetch,
            JobKind::Check,
            JobKind::Export,
            JobKind::Import,
        ];
        for (r, kind) in results.iter().zip(kinds) {
            let text = serde_json::to_string(r).unwrap();
            let back: JobResult = serde_json::from_str(&text).unwrap();
            assert_eq!(&back, r);
            assert_eq!(back.kind(), kind);
            // The kind is written as the daemon's `start_job` names it.
            assert_eq!(json!(kind), json!(format!("{kind:?}").to_lowercase()));
        }
    }

    #[test]
    fn the_documented_jobs_read() {
        let started: JobStarted = doc_example(&api_example("## Jobs", 0), &[]);
        assert_eq!(started.job, 7);
        let running: JobStatus = doc_example(&api_example(JOB, 0), &[]);
        assert_eq!(running.state, JobState::Running);
        let done: JobStatus = doc_example(&api_example(JOB, 1), &[]);
        assert_eq!(done.result.map(|r| r.kind()), Some(JobKind::Publish));
        let failed: JobStatus = doc_example(&api_example(JOB, 2), &[]);
        assert_eq!((failed.kind, failed.status), (JobKind::Fetch, Some(503)));
    }
}
