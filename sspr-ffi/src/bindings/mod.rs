//! uniffi interface (being written).
