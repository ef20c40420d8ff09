# Shortcuts; each recipe is one plain command you can also run without just.

# Run Limen on its embedded default (SQLite in ./limen.db, 127.0.0.1:8080).
run *ARGS:
    cargo run --release -- {{ARGS}}

# Every test, against real PostgreSQL and MariaDB (started if needed).
test *ARGS:
    ./scripts/test {{ARGS}}

# Formatting and lints, as CI expects them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Benchmarks in release mode: prints a Markdown table, writes target/bench/{report.json,report.md,latency.png}.
bench *ARGS:
    ./scripts/bench {{ARGS}}
