//! Runnable examples of sspr. The main one is [`portal`]: a complete self-service password
//! reset web portal, started with `cargo run -p sspr-examples --bin portal`.

pub mod portal;
