//! The fold: every scope's wall state advanced by one committed event at a time, with constant
//! work per event and no reads of the tables.

pub mod aggregate;
pub mod scopes;

pub use aggregate::{Aggregate, CityFacts, GridPlace};
pub use scopes::Scopes;
