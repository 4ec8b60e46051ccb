//! Qualified names (`apache::mod::ssl`, `$::apache::confdir`) taken apart
//! at their `::` separators.
//!
//! `str::split("::")` and `rsplit_once("::")` build a substring searcher on
//! each call; names are split for every word lexed and every variable
//! read, so these look for the separator byte by byte.

/// Taking a qualified name apart.
pub trait Qualified {
    /// The segments, in order: `a::b` gives `a` and `b`, `::a` an empty
    /// segment and `a` (as `split("::")`).
    fn segments(&self) -> impl Iterator<Item = &str>;
    /// The name without its last segment, and that segment: `a::b::c`
    /// gives `a::b` and `c`; `None` without a separator (as
    /// `rsplit_once("::")`).
    fn split_last(&self) -> Option<(&str, &str)>;
    /// The name without the leading `::` of the top scope (as
    /// `trim_start_matches("::")`).
    fn without_top(&self) -> &str;
}

impl Qualified for str {
    fn segments(&self) -> impl Iterator<Item = &str> {
        let mut rest = Some(self);
        std::iter::from_fn(move || {
            let text = rest?;
            match first_separator(text.as_bytes()) {
                Some(at) => {
                    rest = Some(&text[at + 2..]);
                    Some(&text[..at])
                }
                None => {
                    rest = None;
                    Some(text)
                }
            }
        })
    }

    fn split_last(&self) -> Option<(&str, &str)> {
        let bytes = self.as_bytes();
        let at = (0..bytes.len().saturating_sub(1))
            .rev()
            .find(|&at| bytes[at] == b':' && bytes[at + 1] == b':')?;
        Some((&self[..at], &self[at + 2..]))
    }

    fn without_top(&self) -> &str {
        let mut name = self;
        while let Some(rest) = name.strip_prefix("::") {
            name = rest;
        }
        name
    }
}

/// Where the first `::` starts.
fn first_separator(bytes: &[u8]) -> Option<usize> {
    (0..bytes.len().saturating_sub(1)).find(|&at| bytes[at] == b':' && bytes[at + 1] == b':')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn segments_split_as_str_split_does(name in "[a-z:]{0,12}") {
            let ours: Vec<&str> = name.segments().collect();
            let std: Vec<&str> = name.split("::").collect();
            prop_assert_eq!(ours, std);
        }

        #[test]
        fn split_last_splits_as_rsplit_once_does(name in "[a-z:]{0,12}") {
            prop_assert_eq!(name.split_last(), name.rsplit_once("::"));
        }

        #[test]
        fn without_top_trims_as_trim_start_matches_does(name in "[a-z:]{0,12}") {
            prop_assert_eq!(name.without_top(), name.trim_start_matches("::"));
        }
    }
}
