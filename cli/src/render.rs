//! Graphviz DOT laid out and drawn as SVG or PNG, through graphviz-rust and
//! Graphviz's own `dot` program (which must be installed).

use graphviz_rust::cmd::{CommandArg, Format};
use std::io::ErrorKind;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Image {
    Svg,
    Png,
}

/// The picture of `dot`, or an error that says what to install.
pub fn image(dot: &str, image: Image) -> Result<Vec<u8>, String> {
    let format = match image {
        Image::Svg => Format::Svg,
        Image::Png => Format::Png,
    };
    // The newer ranking copes with edges between clusters that make the
    // classic one fail on large graphs ("trouble in init_rank").
    let arguments = vec![
        CommandArg::Custom("-Gnewrank=true".to_string()),
        CommandArg::Format(format),
    ];
    graphviz_rust::exec_dot(dot.to_string(), arguments).map_err(|error| {
        if error.kind() == ErrorKind::NotFound {
            "Graphviz's `dot` program is not installed (Debian and Ubuntu: apt-get install \
             graphviz); install it, or use --format dot and render elsewhere"
                .to_string()
        } else {
            format!(
                "Graphviz's `dot` failed: {}; --focus NAME --depth N or --level module \
                 draw a smaller graph",
                headline(&error.to_string())
            )
        }
    })
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

/// The SVG document of `dot`, as text.
pub fn svg(dot: &str) -> Result<String, String> {
    let bytes = image(dot, Image::Svg)?;
    String::from_utf8(bytes).map_err(|_| "Graphviz's `dot` wrote SVG that is not UTF-8".to_string())
}

/// The `<svg>` element alone, without the XML prolog and DOCTYPE that may
/// not appear inside an HTML page.
pub fn svg_element(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |start| &svg[start..])
}
