//! `weft completions` and the hidden `weft manpages`: documents generated
//! from the command-line definitions.

use std::path::Path;

use clap::CommandFactory;

use crate::args::Cli;
use crate::context::{other, Res};

pub(crate) fn completions(shell: clap_complete::Shell) -> Res {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "weft", &mut script);
    // Through `print!`, so that a closed pipe ends weft quietly.
    print!("{}", String::from_utf8_lossy(&script));
    Ok(())
}

pub(crate) fn manpages(dir: &Path) -> Res {
    clap_mangen::generate_to(Cli::command(), dir).map_err(|e| {
        other(format!(
            "cannot write man pages into {}: {e}",
            dir.display()
        ))
    })
}
