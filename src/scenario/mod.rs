//! Scenarios: a fixture plus ordered, checked steps — executable.
//!
//! A scenario file is a normal fixture document (a server given it as `--fixture` ignores the extra keys)
//! with a `name` and `steps`. Each step is one of
//! - `request`: an HTTP call to any endpoint, signed from the fixture's keys (000 usersig, 001 access
//!   token, 004 `sign`), with `expect` on its answer and `capture` of values for later steps;
//! - `advance`: move the virtual clock (`POST /__admin/clock/advance`);
//! - `event`: a world event (`POST /__admin/events`);
//! - `expect_callbacks`: what the runner's callback receiver has got (count, order, fields, signatures).
//!
//! `${receiver}` (the receiver's URL), `${base}` (the server's), `${now}` (virtual unix seconds) and every
//! captured `${name}` are substituted in the steps; the fixture part may use `${receiver}`. The format is
//! described by `docs/scenario.schema.json` and checked by [`check_document`] (the same rules, in Rust).
//!
//! ```no_run
//! # async fn demo() {
//! use recmock::scenario::{run, Scenario, Target};
//! let s = Scenario::load(std::path::Path::new("fixtures/scenarios/001_manual_layout.json")).unwrap();
//! let report = run(&s, &Target::Embedded).await;
//! print!("{report}");
//! assert!(report.passed());
//! # }
//! ```

pub mod matchers;
pub mod model;
pub mod receiver;
mod run;

pub use model::check_document;
pub use run::{run, Report, StepOutcome, StepStatus, Target};

use crate::fixture::FixtureError;
use serde_json::Value;
use std::collections::BTreeMap;

/// A parsed, checked scenario document.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// `name`, else `description`, else the source
    pub name: String,
    /// where it came from (a file path), for messages
    pub source: String,
    /// the whole document
    pub document: Value,
}

/// Stands in for `${receiver}` when a scenario's fixture is only checked.
pub const RECEIVER_PLACEHOLDER: &str = "http://127.0.0.1:9/cb";

impl Scenario {
    /// Parse and check the scenario parts of a JSON text (`source` names it in messages).
    pub fn parse(source: &str, text: &str) -> Result<Scenario, Vec<FixtureError>> {
        let document: Value = serde_json::from_str(text).map_err(|e| {
            vec![FixtureError::new(
                "",
                format!("{source} is not valid JSON: {e} (line {}, column {})", e.line(), e.column()),
            )]
        })?;
        Scenario::from_value(source, document)
    }

    /// Check a parsed document as a scenario.
    pub fn from_value(source: &str, document: Value) -> Result<Scenario, Vec<FixtureError>> {
        if !document.is_object() {
            return Err(vec![FixtureError::new("", "a scenario must be a JSON object")]);
        }
        let mut errors = check_document(&document);
        if document.get("steps").is_none() {
            errors.push(FixtureError::new("steps", "missing: a scenario is a fixture with `steps`"));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let name = document
            .get("name")
            .or_else(|| document.get("description"))
            .and_then(Value::as_str)
            .unwrap_or(source)
            .to_string();
        Ok(Scenario { name, source: source.to_string(), document })
    }

    /// Read, parse and check a scenario file.
    pub fn load(path: &std::path::Path) -> Result<Scenario, Vec<FixtureError>> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| vec![FixtureError::new("", format!("cannot read {}: {e}", path.display()))])?;
        Scenario::parse(&path.display().to_string(), &text)
    }

    /// The steps, as written (substitution happens when each runs).
    pub fn steps(&self) -> &[Value] {
        self.document.get("steps").and_then(Value::as_array).map_or(&[], Vec::as_slice)
    }

    /// The fixture part (without `name` and `steps`), with `${receiver}` replaced by `receiver`.
    pub fn fixture(&self, receiver: &str) -> Result<Value, String> {
        fixture_part(&self.document, receiver)
    }
}

/// The fixture part of a document (without `name` and `steps`), with `${receiver}` replaced by `receiver`.
pub fn fixture_part(doc: &Value, receiver: &str) -> Result<Value, String> {
    let mut fixture = doc.clone();
    if let Value::Object(m) = &mut fixture {
        m.remove("steps");
        m.remove("name");
    }
    let vars: BTreeMap<String, Value> =
        [("receiver".to_string(), Value::from(receiver))].into_iter().collect();
    model::substitute(&fixture, &vars)
}
