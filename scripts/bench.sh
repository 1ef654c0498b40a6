#!/usr/bin/env bash
# Publish and fetch benchmark (run it through `./dev bench`).
#
# 1. Writes SIZE MiB of random data as 4 files.
# 2. Reference, in the same run: b3sum over the files, then cp -r of them
#    into the filesystem that holds the data dir.
# 3. Times `weft publish` of the folder on daemon A.
# 4. Starts daemon B on loopback, connects it to A, and times `weft get`.
# 5. Prints the figures and writes docs/benchmarks.md.
#
# Usage: scripts/bench.sh [--size-mib N]   (default 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=1024
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mib) SIZE_MIB="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --locked -q -p weft-daemon -p weft-cli
if ! command -v b3sum >/dev/null; then
  echo "bench: installing b3sum from crates.io (the reference hasher)..." >&2
  cargo install -q --locked b3sum
fi
WEFTD="$TARGET/release/weftd"
WEFT="$TARGET/release/weft"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/weft-bench.XXXXXX")"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

now() { date +%s.%N; }
json() { # json id | json addr: read weft --json output on stdin
  python3 -c 'import json,sys
v = json.load(sys.stdin)
if sys.argv[1] == "addr":
    tcp = [a for a in v["listen_addrs"] if "/tcp/" in a][0]
    print(tcp + "/p2p/" + v["peer_id"])
else:
    print(v[sys.argv[1]])' "$1"
}
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }
elapsed() { calc "$2 - $1"; }
mibps() { calc "$SIZE_MIB / $1"; }

mkdir -p "$WORK/data"
PER=$((SIZE_MIB / 4))
for i in 1 2 3 4; do
  head -c "$((PER * 1024 * 1024))" /dev/urandom > "$WORK/data/part-$i.bin"
done
sync

start_daemon() { # name -> sets API file ready
  local dir="$WORK/$1"
  mkdir -p "$dir"
  "$WEFTD" --data-dir "$dir" --listen /ip4/127.0.0.1/tcp/0 --api-port 0 2>"$dir.log" &
  PIDS+=($!)
  for _ in $(seq 1 200); do
    if [ -f "$dir/api.addr" ] && "$WEFT" --data-dir "$dir" status >/dev/null 2>&1; then return 0; fi
    sleep 0.05
  done
  echo "bench: $1 did not start; see $dir.log" >&2
  exit 1
}

start_daemon a
start_daemon b
"$WEFT" --data-dir "$WORK/a" init >/dev/null

t0=$(now); b3sum "$WORK/data"/* >/dev/null; t1=$(now)
B3=$(elapsed "$t0" "$t1")
t0=$(now); cp -r "$WORK/data" "$WORK/copy"; sync; t1=$(now)
CP=$(elapsed "$t0" "$t1")
rm -rf "$WORK/copy"
REF=$(calc "$B3 + $CP")

t0=$(now)
ID=$("$WEFT" --data-dir "$WORK/a" --json publish "$WORK/data" --title bench | json id)
t1=$(now)
PUB=$(elapsed "$t0" "$t1")

ADDR=$("$WEFT" --data-dir "$WORK/a" --json status | json addr)
"$WEFT" --data-dir "$WORK/b" connect "$ADDR" >/dev/null

t0=$(now)
"$WEFT" --data-dir "$WORK/b" get "$ID" -o "$WORK/out" >/dev/null
t1=$(now)
FETCH=$(elapsed "$t0" "$t1")
cmp -s "$WORK/data/part-1.bin" "$WORK/out/part-1.bin" || { echo "bench: fetched bytes differ" >&2; exit 1; }

RATIO=$(calc "$PUB / $REF")
B3_RATIO=$(calc "$PUB / $B3")
printf 'data:                    %s MiB in 4 random files\n' "$SIZE_MIB"
printf 'b3sum (reference):       %.2f s  (%s MiB/s)\n' "$B3" "$(mibps "$B3")"
printf 'cp -r (reference):       %.2f s  (%s MiB/s)\n' "$CP" "$(mibps "$CP")"
printf 'weft publish:            %.2f s  (%s MiB/s)  = %sx b3sum, %sx (b3sum + cp)\n' "$PUB" "$(mibps "$PUB")" "$B3_RATIO" "$RATIO"
printf 'weft get, A -> B:        %.2f s  (%s MiB/s, including writing the files out)\n' "$FETCH" "$(mibps "$FETCH")"

cat > docs/benchmarks.md <<MD
# Benchmarks

Produced by \`./dev bench\` (\`scripts/bench.sh\`) on $(date -u +%Y-%m-%d), $(nproc) cores,
release build, two \`weftd\` processes on 127.0.0.1 (TCP, noise, yamux).
Data: $SIZE_MIB MiB of random bytes in 4 files. Every figure comes from the
same run; wall-clock times include starting the CLI and polling the job.

| case | time | throughput | reference (same run) | ratio |
|---|---|---|---|---|
| b3sum over the files | $(printf %.2f "$B3") s | $(mibps "$B3") MiB/s | — | — |
| cp -r of the files next to the data dir | $(printf %.2f "$CP") s | $(mibps "$CP") MiB/s | — | — |
| \`weft publish\` | $(printf %.2f "$PUB") s | $(mibps "$PUB") MiB/s | b3sum + cp = $(printf %.2f "$REF") s | $RATIO× (b3sum alone: $B3_RATIO×) |
| \`weft get\` from a second daemon, files written out | $(printf %.2f "$FETCH") s | $(mibps "$FETCH") MiB/s | — | — |

Publishing hashes every chunk and writes it into RocksDB (blob files), then
signs and commits the manifest. Fetching requests chunks from the peer over
request-response (at most 8 in flight per peer), verifies each against its
BLAKE3 hash, stores it, then writes the files to the output folder.
MD
echo "wrote docs/benchmarks.md" >&2
