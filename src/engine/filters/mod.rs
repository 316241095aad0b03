//! Checks on a candidate after its regex matched: entropy, stand-in values, structural validators.

pub mod entropy;
pub mod placeholder;
pub mod validate;
