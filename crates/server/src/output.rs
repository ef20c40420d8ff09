//! What commands print. A reader that stops early (`limen audit | head -5`)
//! closes the pipe; Rust ignores SIGPIPE, so the next write fails, and
//! `println!` would panic with a backtrace. Here the command ends quietly
//! instead, as Unix tools do, with status 0: the reader got what it wanted.

use std::fmt;
use std::io::{self, Write};

/// Writes one line to standard output.
pub fn line(args: fmt::Arguments<'_>) {
    finish(writeln!(io::stdout().lock(), "{args}"));
}

/// Writes `text` to standard output as it is.
pub fn text(text: &str) {
    let mut stdout = io::stdout().lock();
    finish(stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()));
}

/// Writes one line to standard error.
pub fn error_line(args: fmt::Arguments<'_>) {
    finish(writeln!(io::stderr().lock(), "{args}"));
}

/// Writes to standard error without a line break (a prompt).
pub fn prompt(args: fmt::Arguments<'_>) {
    let mut stderr = io::stderr().lock();
    finish(write!(stderr, "{args}").and_then(|()| stderr.flush()));
}

fn finish(written: io::Result<()>) {
    match written {
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => std::process::exit(0),
        // Nowhere else to say it: the stream itself is what failed.
        Err(_) | Ok(()) => {}
    }
}

/// `println!` that ends the command quietly when the reader has gone.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::output::line(format_args!($($arg)*))
    };
}

/// `eprintln!` that ends the command quietly when the reader has gone.
macro_rules! say_err {
    ($($arg:tt)*) => {
        $crate::output::error_line(format_args!($($arg)*))
    };
}

pub(crate) use {say, say_err};
