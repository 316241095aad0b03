//! keywarden: a secret leak scanner and rotation-compliance auditor.
//!
//! Data flows one way: `source` produces blobs with provenance, `engine` matches rules over
//! bytes, `pipeline` turns matches into findings and suppresses the accepted ones, and `report`
//! prints them. `audit` is a sibling that reuses fingerprints, severities and reports.
//! docs/architecture.md maps every module and says where each kind of change goes.

// `unsafe` lives only in the kernels that need it (the keyword automaton read in place, SIMD
// decoding and hashing), each of which allows it for itself with its SAFETY notes.
#![deny(unsafe_code)]
// Every public item says what it is for; CI runs clippy with warnings as errors.
#![warn(missing_docs)]

pub mod audit;
pub mod cli;
pub mod config;
pub mod engine;
pub mod pipeline;
pub mod report;
pub mod rules;
pub mod scan;
pub mod source;
#[cfg(test)]
pub(crate) mod test_rng;
