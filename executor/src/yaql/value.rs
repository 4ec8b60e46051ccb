//! YAQL values: YAML and JSON data with the meaning Python gives them
//! (YAQL is a Python library): `1 == 1.0 == true`, mappings keep the order
//! they were written in and compare without it, empty things are false.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Weak};
use std::thread::LocalKey;

#[derive(Clone, Debug, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Arc<str>),
    List(Arc<Vec<Value>>),
    /// Entries in the order they were written (Python dicts keep it).
    Map(Arc<Vec<(Value, Value)>>),
    /// Nailgun's mark for an expression that failed on the previous data.
    Undefined,
}

impl Value {
    pub fn string(text: &str) -> Value {
        Value::Str(Arc::from(text))
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(items))
    }

    pub fn map(entries: Vec<(Value, Value)>) -> Value {
        Value::Map(Arc::new(entries))
    }

    pub fn empty_map() -> Value {
        Value::map(Vec::new())
    }

    /// Python's truth: null, false, 0, "" and empty collections are false.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(flag) => *flag,
            Value::Int(number) => *number != 0,
            Value::Float(number) => *number != 0.0,
            Value::Str(text) => !text.is_empty(),
            Value::List(items) => !items.is_empty(),
            Value::Map(entries) => !entries.is_empty(),
            Value::Undefined => true,
        }
    }

    /// The value under a key of a mapping.
    pub fn get(&self, key: &Value) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries
                .iter()
                .find(|(candidate, _)| candidate == key)
                .map(|(_, value)| value),
            _ => None,
        }
    }

    /// The value under a text key of a mapping.
    pub fn field(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries
                .iter()
                .find(|(candidate, _)| matches!(candidate, Value::Str(text) if &**text == key))
                .map(|(_, value)| value),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(text) => Some(text),
            _ => None,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) | Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "mapping",
            Value::Undefined => "undefined",
        }
    }

    fn number(&self) -> Option<f64> {
        match self {
            Value::Bool(flag) => Some(f64::from(u8::from(*flag))),
            Value::Int(number) => Some(*number as f64),
            Value::Float(number) => Some(*number),
            _ => None,
        }
    }

    /// YAQL's order: numbers with numbers, strings with strings, null
    /// before everything. None when the two cannot be compared.
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Null, Value::Null) => Some(Ordering::Equal),
            (Value::Null, _) => Some(Ordering::Less),
            (_, Value::Null) => Some(Ordering::Greater),
            (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
            (Value::Str(a), Value::Str(b)) => Some(a.cmp(b)),
            (Value::Bool(_) | Value::Int(_) | Value::Float(_), _) => {
                self.number()?.partial_cmp(&other.number()?)
            }
            _ => None,
        }
    }

    /// JSON for output; mapping keys become text.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as Json;
        match self {
            Value::Null => Json::Null,
            Value::Bool(flag) => Json::Bool(*flag),
            Value::Int(number) => Json::from(*number),
            Value::Float(number) => serde_json::Number::from_f64(*number)
                .map(Json::Number)
                .unwrap_or(Json::Null),
            Value::Str(text) => Json::String(text.to_string()),
            Value::List(items) => Json::Array(items.iter().map(Value::to_json).collect()),
            Value::Map(entries) => Json::Object(
                entries
                    .iter()
                    .map(|(key, value)| (key.key_text(), value.to_json()))
                    .collect(),
            ),
            Value::Undefined => serde_json::json!({"$undefined": true}),
        }
    }

    pub fn from_json(json: &serde_json::Value) -> Value {
        use serde_json::Value as Json;
        match json {
            Json::Null => Value::Null,
            Json::Bool(flag) => Value::Bool(*flag),
            Json::Number(number) => match number.as_i64() {
                Some(int) => Value::Int(int),
                None => Value::Float(number.as_f64().unwrap_or(f64::NAN)),
            },
            Json::String(text) => Value::string(text),
            Json::Array(items) => Value::list(items.iter().map(Value::from_json).collect()),
            Json::Object(map) => Value::map(
                map.iter()
                    .map(|(key, value)| (Value::string(key), Value::from_json(value)))
                    .collect(),
            ),
        }
    }

    /// A mapping key as text (YAML keys may be numbers or booleans).
    pub fn key_text(&self) -> String {
        match self {
            Value::Str(text) => text.to_string(),
            other => other.to_string(),
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) | (Value::Undefined, Value::Undefined) => true,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::List(a), Value::List(b)) => Arc::ptr_eq(a, b) || a == b,
            (Value::Map(a), Value::Map(b)) => {
                // Data read from two files of the same cluster lists its keys
                // in the same order: then values compare pairwise; keys are
                // looked up only when the orders differ.
                if Arc::ptr_eq(a, b) {
                    return true;
                }
                if a.len() != b.len() {
                    return false;
                }
                if a.iter().zip(b.iter()).all(|((x, _), (y, _))| x == y) {
                    a.iter().zip(b.iter()).all(|((_, x), (_, y))| x == y)
                } else {
                    a.iter()
                        .all(|(key, value)| other.get(key).is_some_and(|found| found == value))
                }
            }
            (Value::Int(a), Value::Int(b)) => a == b,
            _ => match (self.number(), other.number()) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            },
        }
    }
}

impl Value {
    /// A hash that agrees with `==`: equal numbers of any type hash alike
    /// (`1`, `1.0`, `true`), mappings whatever the order of their keys.
    pub fn equality_hash(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        match self {
            Value::Null => 0u8.hash(&mut hasher),
            Value::Undefined => 1u8.hash(&mut hasher),
            Value::Str(text) => text.hash(&mut hasher),
            Value::List(items) => {
                2u8.hash(&mut hasher);
                items
                    .iter()
                    .for_each(|item| item.equality_hash().hash(&mut hasher));
            }
            Value::Map(entries) => {
                3u8.hash(&mut hasher);
                map_hash(entries).hash(&mut hasher);
            }
            number => {
                let number = number.number().unwrap_or(f64::NAN);
                if number.fract() == 0.0 && number.abs() < 9.0e15 {
                    (number as i64).hash(&mut hasher);
                } else {
                    number.to_bits().hash(&mut hasher);
                }
            }
        }
        hasher.finish()
    }
}

type Entries = Vec<(Value, Value)>;

/// What is remembered about mappings, by their address. Data is shared and
/// never changes, and Fuel's conditions read the same parts of it (the node
/// list) again on every node. The weak reference keeps the address from
/// being given to another mapping while it is here.
type ByMapping<T> = RefCell<HashMap<usize, (Weak<Entries>, T)>>;

thread_local! {
    /// The hashes of the mappings hashed so far: Nailgun's list diffs hash
    /// the same node entries.
    static MAP_HASHES: ByMapping<u64> = RefCell::new(HashMap::new());
    /// The lists of values of large mappings: `values()` of the node list
    /// then gives the same list on every node, which a remembered diff of it
    /// recognizes at once.
    static MAP_VALUES: ByMapping<Value> = RefCell::new(HashMap::new());
}

/// `compute()` for the mapping `entries`, or what it gave last time.
fn remembered<T: Clone>(
    memory: &'static LocalKey<ByMapping<T>>,
    entries: &Arc<Entries>,
    compute: impl FnOnce() -> T,
) -> T {
    const MOST_REMEMBERED: usize = 100_000;
    let address = Arc::as_ptr(entries) as usize;
    let known = memory.with(|known| {
        known
            .borrow()
            .get(&address)
            .filter(|(weak, _)| weak.strong_count() > 0)
            .map(|(_, value)| value.clone())
    });
    if let Some(value) = known {
        return value;
    }
    let value = compute();
    memory.with(|known| {
        let mut known = known.borrow_mut();
        if known.len() >= MOST_REMEMBERED {
            known.clear();
        }
        known.insert(address, (Arc::downgrade(entries), value.clone()));
    });
    value
}

/// A mapping's hash, whatever the order of its keys.
fn map_hash(entries: &Arc<Entries>) -> u64 {
    remembered(&MAP_HASHES, entries, || {
        entries.iter().fold(0u64, |sum, (key, value)| {
            sum.wrapping_add(key.equality_hash().rotate_left(17) ^ value.equality_hash())
        })
    })
}

impl Value {
    /// The values of a mapping, in order, as a list; None for anything else.
    pub fn values(&self) -> Option<Value> {
        // Below this size, making the list costs less than looking it up.
        const SMALLEST_REMEMBERED: usize = 32;
        let Value::Map(entries) = self else {
            return None;
        };
        let list = || Value::list(entries.iter().map(|(_, value)| value.clone()).collect());
        Some(if entries.len() < SMALLEST_REMEMBERED {
            list()
        } else {
            remembered(&MAP_VALUES, entries, list)
        })
    }
}

/// As Python prints it (what `str()` and YAQL's errors show).
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "null"),
            Value::Bool(flag) => write!(f, "{flag}"),
            Value::Int(number) => write!(f, "{number}"),
            Value::Float(number) => write!(f, "{number:?}"),
            Value::Str(text) => write!(f, "{text}"),
            other => write!(f, "{}", other.to_json()),
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        struct ValueVisitor;
        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_bool<E>(self, flag: bool) -> Result<Value, E> {
                Ok(Value::Bool(flag))
            }
            fn visit_i64<E>(self, number: i64) -> Result<Value, E> {
                Ok(Value::Int(number))
            }
            fn visit_u64<E: de::Error>(self, number: u64) -> Result<Value, E> {
                Ok(i64::try_from(number)
                    .map(Value::Int)
                    .unwrap_or(Value::Float(number as f64)))
            }
            fn visit_f64<E>(self, number: f64) -> Result<Value, E> {
                Ok(Value::Float(number))
            }
            fn visit_str<E>(self, text: &str) -> Result<Value, E> {
                Ok(Value::string(text))
            }
            fn visit_unit<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_none<E>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
                Value::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Value::list(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                let mut entries: Vec<(Value, Value)> = Vec::new();
                while let Some((key, value)) = map.next_entry::<Value, Value>()? {
                    match entries.iter_mut().find(|(existing, _)| *existing == key) {
                        Some(entry) => entry.1 = value,
                        None => entries.push((key, value)),
                    }
                }
                Ok(Value::map(entries))
            }
        }
        deserializer.deserialize_any(ValueVisitor)
    }
}

/// Shares the equal parts of documents (hash-consing). Each node's data
/// file repeats the cluster's parts (the node list, the VIPs...), and the
/// previous deployment's data repeats most of the current one: once shared,
/// such parts compare in constant time, which is what makes Nailgun's
/// `changed()` cheap on a cluster of a thousand nodes.
#[derive(Default)]
pub struct Interner {
    seen: std::collections::HashMap<u64, Vec<Value>>,
}

impl Interner {
    pub fn intern(&mut self, value: &Value) -> Value {
        let shared = match value {
            Value::List(items) => Value::list(items.iter().map(|item| self.intern(item)).collect()),
            Value::Map(entries) => Value::map(
                entries
                    .iter()
                    .map(|(key, item)| (key.clone(), self.intern(item)))
                    .collect(),
            ),
            scalar => return scalar.clone(),
        };
        let hash = shallow_hash(&shared);
        let bucket = self.seen.entry(hash).or_default();
        if let Some(existing) = bucket.iter().find(|known| same_shape(known, &shared)) {
            return existing.clone();
        }
        bucket.push(shared.clone());
        shared
    }
}

/// A hash of a collection whose children are already interned: children
/// by address, scalars by value.
fn shallow_hash(value: &Value) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    let part = |value: &Value, hasher: &mut std::collections::hash_map::DefaultHasher| match value {
        Value::Null => 0u8.hash(hasher),
        Value::Bool(flag) => flag.hash(hasher),
        Value::Int(number) => number.hash(hasher),
        Value::Float(number) => number.to_bits().hash(hasher),
        Value::Str(text) => text.hash(hasher),
        Value::List(items) => (Arc::as_ptr(items) as usize).hash(hasher),
        Value::Map(entries) => (Arc::as_ptr(entries) as usize).hash(hasher),
        Value::Undefined => 1u8.hash(hasher),
    };
    match value {
        Value::List(items) => items.iter().for_each(|item| part(item, &mut hasher)),
        Value::Map(entries) => entries.iter().for_each(|(key, item)| {
            part(key, &mut hasher);
            part(item, &mut hasher);
        }),
        scalar => part(scalar, &mut hasher),
    }
    hasher.finish()
}

/// The same collection exactly (types included, `1` is not `1.0`), children
/// compared by address.
fn same_shape(a: &Value, b: &Value) -> bool {
    matches!(a, Value::List(_) | Value::Map(_)) && exactly_equal(a, b, 1)
}

/// Equal with the same types (`1` is not `1.0`) and keys in the same
/// order, looking `levels` deep into collections; below that, collections
/// are equal when they are the same one (shared).
fn exactly_equal(a: &Value, b: &Value, levels: u32) -> bool {
    let inner = |x: &Value, y: &Value| exactly_equal(x, y, levels.saturating_sub(1));
    match (a, b) {
        (Value::List(p), Value::List(q)) => {
            Arc::ptr_eq(p, q)
                || (levels > 0
                    && p.len() == q.len()
                    && p.iter().zip(q.iter()).all(|(x, y)| inner(x, y)))
        }
        (Value::Map(p), Value::Map(q)) => {
            Arc::ptr_eq(p, q)
                || (levels > 0
                    && p.len() == q.len()
                    && p.iter()
                        .zip(q.iter())
                        .all(|((k, x), (l, y))| inner(k, l) && inner(x, y)))
        }
        (Value::Float(p), Value::Float(q)) => p.to_bits() == q.to_bits(),
        (Value::Int(p), Value::Int(q)) => p == q,
        (Value::Bool(p), Value::Bool(q)) => p == q,
        (Value::Str(p), Value::Str(q)) => p == q,
        (Value::Null, Value::Null) | (Value::Undefined, Value::Undefined) => true,
        _ => false,
    }
}

impl Value {
    /// The same value exactly, types and key order included: what a cached
    /// result may be reused for. Shared parts compare by address.
    pub fn identical(&self, other: &Value) -> bool {
        exactly_equal(self, other, u32::MAX)
    }
}
