//! keywarden: a secret leak scanner and rotation-compliance auditor.

pub mod audit;
pub mod cli;
pub mod engine;
pub mod entropy;
pub mod fingerprint;
pub mod placeholder;
pub mod rulecheck;
pub mod rules;
pub mod validate;
