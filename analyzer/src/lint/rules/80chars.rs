//! **80chars** (warning, disabled by default): a line longer than 80
//! characters.
//!
//! Why: some teams keep the older 80-column limit of the style guide.
//! Lines with a URL (`://`) or a `template(` call are exempt.
//!
//! Example: `$message = "a sentence that goes on well past the eightieth column of the line"`.
//!
//! Fix: break the line.

use crate::lint::{Context, Problems};

pub fn check(cx: &Context, out: &mut Problems) {
    super::line_length::check(cx, out, 80);
}
