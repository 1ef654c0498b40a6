//! `weft`: the command-line client of a local `weftd`.
//!
//! A thin shell: it parses arguments, checks what it can locally (ids,
//! paths), asks the daemon through its API, and prints the answer for a
//! person or, with `--json`, for a program. Errors are one or two sentences
//! on stderr and a non-zero exit code.

// `println!` and `print!` for every module below: like std's, except that
// a reader gone away (`weft search | head -1`) ends weft quietly with
// success, as ripgrep does, instead of a panic and exit code 101.
macro_rules! println {
    () => {
        $crate::out::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::out::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

macro_rules! print {
    ($($arg:tt)*) => {
        $crate::out::write(format_args!($($arg)*))
    };
}

mod out;

mod args;
mod cmd;
mod context;
mod files;
mod input;
mod output;

use std::process::ExitCode;

use clap::Parser;
use weft_protocol::api::CliError;

use weft_cli::http::CallError;

use crate::args::Cli;
use crate::cmd::run;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if json {
                let status = match &e {
                    CallError::Api { status, .. } => Some(*status),
                    _ => None,
                };
                let error = CliError {
                    error: e.to_string(),
                    status,
                };
                eprintln!("{}", serde_json::to_string(&error).unwrap_or_default());
            } else {
                eprintln!("weft: {e}");
            }
            match e {
                CallError::NotRunning(_) => ExitCode::from(3),
                _ => ExitCode::FAILURE,
            }
        }
    }
}
