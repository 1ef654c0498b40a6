//! Replays the committed corpus through every fuzz target: each seed, and
//! each input that once crashed a decoder, must now be handled without a
//! panic. This is how CI runs the fuzz targets (`./dev fuzz` runs libFuzzer
//! itself).

use std::path::Path;

#[test]
fn every_target_handles_its_whole_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut total = 0;
    for (name, target) in weft_fuzz::TARGETS {
        let dir = root.join(name);
        let mut inputs: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}; every target needs a corpus", dir.display()))
            .map(|e| e.expect("corpus entry").path())
            .collect();
        inputs.sort();
        assert!(
            inputs.len() >= 2,
            "{name} has {} corpus inputs; seed it with `cargo run -p weft-fuzz --bin weft-fuzz-seeds`",
            inputs.len()
        );
        for input in &inputs {
            let bytes = std::fs::read(input).expect("read corpus input");
            let r = std::panic::catch_unwind(|| target(&bytes));
            assert!(r.is_ok(), "{name} panicked on {}", input.display());
        }
        total += inputs.len();
    }
    println!(
        "{} targets, {total} corpus inputs replayed",
        weft_fuzz::TARGETS.len()
    );
}

#[test]
fn every_target_has_a_libfuzzer_binary() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("libfuzzer");
    let manifest =
        std::fs::read_to_string(dir.join("Cargo.toml")).expect("fuzz/libfuzzer/Cargo.toml");
    for (name, _) in weft_fuzz::TARGETS {
        let src = std::fs::read_to_string(dir.join("fuzz_targets").join(format!("{name}.rs")))
            .unwrap_or_else(|_| panic!("fuzz/libfuzzer/fuzz_targets/{name}.rs is missing"));
        assert!(
            src.contains(&format!("weft_fuzz::{name}")),
            "{name}.rs runs another target"
        );
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "{name} is not a [[bin]] of fuzz/libfuzzer"
        );
    }
}
