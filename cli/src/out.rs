//! Writing to stdout for the `println!` and `print!` of `main.rs`.

use std::io::Write;

/// Writes `args` to stdout. A closed pipe ends the process with success
/// (the reader has what it wanted); any other write error ends it with a
/// sentence and exit code 1.
pub(crate) fn write(args: std::fmt::Arguments<'_>) {
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("weft: cannot write the output: {e}");
        std::process::exit(1);
    }
}
