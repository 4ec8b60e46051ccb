//! granule-executor: loads task descriptors and runs task graphs.
