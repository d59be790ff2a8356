//! The live path: the aggregates that fold committed events into every wall's state, the hub
//! task that turns them into frames, the saved snapshot that makes a restart fast, and the
//! checkpoints that rebuild any past moment.

pub mod history;
pub mod hub;
pub mod saved;
pub mod scopes;

pub use hub::{Current, Frame, Hub, HubStopped, Resume, SubscribeError, Subscription, spawn};
pub use scopes::{city_facts, fold_tail, fold_tail_to, rebuild, rebuild_now};
