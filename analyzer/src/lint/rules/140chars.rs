//! **140chars** (warning): a line longer than 140 characters.
//!
//! Why: long lines are hard to read and to review side by side. Lines with
//! a URL (`://`) or a `template(` call are exempt: splitting them hurts more.
//!
//! Example: a resource declared with all its attributes on one line.
//!
//! Fix: break the line, one attribute per line.

use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    super::line_length::check(cx, out, 140);
}
