//! Graphviz DOT laid out and drawn as SVG or PNG by Graphviz's own `dot`
//! program (which must be installed), run here rather than through a
//! wrapper so that its warnings (a PNG it had to shrink) reach the user.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{ErrorKind, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Image {
    Svg,
    Png,
}

/// What `dot` drew, and what it had to say about it.
pub struct Drawing {
    pub bytes: Vec<u8>,
    /// Graphviz's warnings, one a line, as it wrote them.
    pub warnings: Vec<String>,
}

/// The picture of `dot`, or an error that says what to install. `what`
/// names the graph for the progress shown on a terminal while Graphviz
/// works (minutes for thousands of edges).
pub fn image(dot: &str, image: Image, what: &str) -> Result<Drawing, String> {
    let format = match image {
        Image::Svg => "-Tsvg",
        Image::Png => "-Tpng",
    };
    // The newer ranking copes with edges between clusters that make the
    // classic one fail on large graphs ("trouble in init_rank").
    let child = Command::new("dot")
        .args(["-Gnewrank=true", format])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) if error.kind() == ErrorKind::NotFound => {
            return Err(
                "Graphviz's `dot` program is not installed (Debian and Ubuntu: apt-get \
                 install graphviz); install it, or use --format dot and render elsewhere"
                    .to_string(),
            )
        }
        Err(error) => return Err(format!("cannot run Graphviz's `dot`: {error}")),
    };
    let progress = progress(what);
    let input = child.stdin.take().expect("a piped stdin");
    let text = dot.to_string();
    // Written from another thread: `dot` may write before it has read all.
    let writer = std::thread::spawn(move || {
        let mut input = input;
        input.write_all(text.as_bytes())
    });
    let output = child.wait_with_output();
    progress.finish_and_clear();
    let output = output.map_err(|error| format!("Graphviz's `dot` failed: {error}"))?;
    let _ = writer.join();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "Graphviz's `dot` failed: {}; --focus NAME --depth N or --level module \
             draw a smaller graph",
            headline(&stderr)
        ));
    }
    Ok(Drawing {
        bytes: output.stdout,
        warnings: stderr
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(str::to_string)
            .collect(),
    })
}

/// A spinner with the elapsed time on a terminal; nothing elsewhere.
fn progress(what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} Graphviz is drawing {msg} ({elapsed})")
            .expect("a valid template"),
    );
    bar.set_message(what.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// The first lines of Graphviz's complaint, without the dumps it indents.
fn headline(message: &str) -> String {
    message
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with(char::is_whitespace))
        .take(4)
        .collect::<Vec<_>>()
        .join(" / ")
}

/// The factor by which Graphviz shrank a bitmap too large for it ("Graph
/// is too large for cairo-renderer bitmaps. Scaling by 0.776 to fit").
pub fn shrink_factor(warnings: &[String]) -> Option<f64> {
    warnings.iter().find_map(|line| {
        let (_, after) = line.split_once("Scaling by ")?;
        after.split_whitespace().next()?.parse().ok()
    })
}

/// The width and height of a PNG, from its header.
pub fn png_size(png: &[u8]) -> Option<(u32, u32)> {
    let width = png.get(16..20)?.try_into().ok()?;
    let height = png.get(20..24)?.try_into().ok()?;
    Some((u32::from_be_bytes(width), u32::from_be_bytes(height)))
}

/// The SVG document of `dot`, as text, and Graphviz's warnings.
pub fn svg(dot: &str, what: &str) -> Result<(String, Vec<String>), String> {
    let drawing = image(dot, Image::Svg, what)?;
    let svg = String::from_utf8(drawing.bytes)
        .map_err(|_| "Graphviz's `dot` wrote SVG that is not UTF-8".to_string())?;
    Ok((svg, drawing.warnings))
}

/// The `<svg>` element alone, without the XML prolog and DOCTYPE that may
/// not appear inside an HTML page.
pub fn svg_element(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |start| &svg[start..])
}
