//! Prints the test vectors of `docs/protocol.md`: section 11 with
//! `cargo run -p weft-protocol --example vectors`, section 3's chunking
//! vectors with `... --example vectors chunking`.

fn main() {
    if std::env::args().nth(1).as_deref() == Some("chunking") {
        print!("{}", weft_protocol::vectors::render_chunking());
    } else {
        print!("{}", weft_protocol::vectors::render());
    }
}
