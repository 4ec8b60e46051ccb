//! Where each key of a task is written, read in a pass of its own over the
//! text: serde's derive stops at the first unknown field and keeps no
//! place for a parameter, so without it one run reports one unknown field
//! and a bad parameter points at its task's first line.

use super::Origin;
use crate::catalog::closest;
use crate::error::Diagnostic;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_saphyr::Spanned;
use std::fmt;
use std::path::Path;

/// The keys of one task, and those of its `parameters`.
#[derive(Default)]
pub struct KeyPlaces {
    fields: Vec<Spanned<String>>,
    parameters: Vec<Spanned<String>>,
}

impl KeyPlaces {
    /// The keys of every task of a descriptor file, or `None` when the text
    /// is no list of maps (the typed parse then says what is wrong).
    pub fn of_file(text: &str) -> Option<Vec<KeyPlaces>> {
        serde_saphyr::from_str::<Option<Vec<KeyPlaces>>>(text)
            .ok()
            .flatten()
    }

    /// `origin` moved to where `field` is written, when it is.
    pub fn field(&self, field: &str, origin: &Origin) -> Origin {
        at(&self.fields, field, origin)
    }

    /// `origin` moved to where parameter `key` is written, else to the
    /// `parameters` key, else left on the task.
    pub fn parameter(&self, key: &str, origin: &Origin) -> Origin {
        let parameters = self.field("parameters", origin);
        at(&self.parameters, key, &parameters)
    }

    /// An error at each field that `known` does not hold, with the nearest
    /// known name.
    pub fn unknown_fields(&self, file: &Path, known: &[&str]) -> Vec<Diagnostic> {
        let known: Vec<String> = known.iter().map(|name| name.to_string()).collect();
        self.fields
            .iter()
            .filter(|field| !known.contains(&field.value))
            .map(|field| {
                let diagnostic = Diagnostic::new(file, format!("unknown field `{}`", field.value))
                    .at(field.referenced.line(), field.referenced.column());
                match closest(&field.value, known.iter()) {
                    Some(near) => diagnostic.help(format!("did you mean `{near}`?")),
                    None => diagnostic.help(format!("the fields of a task: {}", known.join(", "))),
                }
            })
            .collect()
    }
}

fn at(keys: &[Spanned<String>], name: &str, origin: &Origin) -> Origin {
    match keys.iter().find(|key| key.value == name) {
        Some(key) => Origin {
            file: origin.file.clone(),
            line: key.referenced.line(),
            column: key.referenced.column(),
        },
        None => origin.clone(),
    }
}

/// The keys of a map, its values skipped.
struct Keys(Vec<Spanned<String>>);

impl<'de> Deserialize<'de> for KeyPlaces {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Task;
        impl<'de> Visitor<'de> for Task {
            type Value = KeyPlaces;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a task (a map)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyPlaces, A::Error> {
                let mut places = KeyPlaces::default();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    if key.value == "parameters" {
                        places.parameters = map
                            .next_value::<Option<Keys>>()?
                            .map_or_else(Vec::new, |keys| keys.0);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                    places.fields.push(key);
                }
                Ok(places)
            }
        }
        deserializer.deserialize_map(Task)
    }
}

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Map;
        impl<'de> Visitor<'de> for Map {
            type Value = Keys;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<Spanned<String>>()? {
                    map.next_value::<IgnoredAny>()?;
                    keys.push(key);
                }
                Ok(Keys(keys))
            }
        }
        deserializer.deserialize_map(Map)
    }
}

/// The field names serde's derive gives `T`: the list it hands to
/// `deserialize_struct`, so that the known fields are written once, on the
/// struct.
pub fn field_names<T: for<'de> Deserialize<'de>>() -> &'static [&'static str] {
    struct Names<'a>(&'a mut &'static [&'static str]);
    impl<'de> Deserializer<'de> for Names<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("only a struct's field names are read"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("only a struct's field names are read"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }
    let mut names: &'static [&'static str] = &[];
    let _ = T::deserialize(Names(&mut names));
    names
}
