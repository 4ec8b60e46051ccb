//! What the commands print on stdout.
//!
//! A reader may stop early (`granule lint . | head -1`) and close the pipe.
//! `print!` would then panic; these macros drop the rest of the output
//! instead, and the command finishes its work (a run, its tasks) and exits
//! with the status it would have had.

/// `print!` that ignores a closed stdout.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `println!` that ignores a closed stdout.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}
