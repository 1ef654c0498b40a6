//! Prints the test-vector section of `docs/protocol.md`:
//! `cargo run -p weft-protocol --example vectors`.

fn main() {
    print!("{}", weft_protocol::vectors::render());
}
