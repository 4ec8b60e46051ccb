//! Shared helpers for granule's cross-crate tests: the corpus, the oracles.
