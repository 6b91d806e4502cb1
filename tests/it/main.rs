//! The integration tests: one test crate (one link of the whole stack instead of one per file), each file a
//! module. Every test talks HTTP to a real server on an ephemeral port (see `common`); `cli` and
//! `scenario_runner` also run the `recmock` binary. Run them with `make test`, or one module with e.g.
//! `cargo test --test it tls::`.

mod common;

mod admin;
mod admin_guard;
mod auth_clock;
mod cli;
mod cloud_record;
mod extremes;
mod gateway;
mod hardening;
mod iclass;
mod ilvb_edu;
mod layers;
mod live_sdk;
mod media;
mod meeting;
mod metrics;
mod openapi;
mod outbox;
mod recordings;
mod scenario_runner;
mod smoke;
mod state_file;
mod tls;
mod ui;
