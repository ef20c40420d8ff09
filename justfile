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

# schemathesis against a running Limen: 200 examples per operation, a new seed each run
# (LIMEN_E2E_MAX_EXAMPLES, LIMEN_E2E_SEED); the test suite runs the same test with 20.
e2e:
    ./scripts/e2e

# Benchmarks in release mode: prints a Markdown table, writes target/bench/{report.json,report.md,latency.png}.
bench *ARGS:
    ./scripts/bench {{ARGS}}

# Every fuzz target of the parsers of client input, SECONDS each (default 20): fuzz/, stable Rust.
fuzz *ARGS:
    ./scripts/fuzz {{ARGS}}
