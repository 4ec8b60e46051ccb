//! granule-analyzer: which class, define, resource and module depends on
//! which, across a whole codebase, statically, for every branch at once.
//!
//! * [`modulepath`] finds the modules of a module path (Puppet's autoload
//!   layout, `metadata.json` dependencies, Ruby resource types).
//! * [`index`] parses every manifest in parallel and indexes its
//!   definitions ([`Codebase`]), with findings about duplicates and files the
//!   autoloader would not find.
//! * [`extract`] turns each file's tree into [`Edge`]s: declarations,
//!   instantiations, ordering and refresh, data reads, resources, each with
//!   its location and the guards it stands under.
//! * [`analysis`] resolves the edges against the index ([`Analysis`]):
//!   references to classes and types defined nowhere are findings.
//! * [`graph`] builds the graph at a [`Level`] for what an [`Entry`]
//!   reaches, and finds the cycles of its ordering edges.

pub mod analysis;
pub mod builtins;
pub mod dot;
pub mod extract;
pub mod graph;
pub mod hashing;
pub mod index;
pub mod json;
pub mod lint;
pub mod model;
pub mod modulepath;
pub mod semantic;
pub mod split;

pub use analysis::{Analysis, LoadedModules};
pub use graph::{Entry, Graph, GraphEdge, Level};
pub use index::Codebase;
pub use model::{Definition, DefinitionKind, Edge, EdgeKind, Finding, Location, Vertex};
