//! Every scope's aggregate together: the city, each district and each street. An event folds
//! into the city and into the district and street of its grid, so its cost does not grow with
//! the number of scopes.

use super::aggregate::{Aggregate, CityFacts};
use crate::event::Event;
use serde::{Deserialize, Serialize};
use shared::wall::{Alert, People, Scope};
use std::collections::BTreeMap;

/// The aggregates of every scope, as of one position in the log and in the house visits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scopes {
    #[serde(with = "by_scope")]
    pub aggregates: BTreeMap<Scope, Aggregate>,
    /// The last transition folded in.
    pub log_seq: u64,
    /// The last house visit folded in.
    pub visit_seq: u64,
}

/// A map keyed by scope, saved as a list of pairs: JSON keys must be strings.
mod by_scope {
    use super::{Aggregate, Scope};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;

    pub fn serialize<S: Serializer>(
        map: &BTreeMap<Scope, Aggregate>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        map.iter().collect::<Vec<_>>().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<Scope, Aggregate>, D::Error> {
        Ok(Vec::<(Scope, Aggregate)>::deserialize(d)?
            .into_iter()
            .collect())
    }
}

impl Scopes {
    /// The scopes an event of `grid_id` folds into: the city, then its district and street.
    pub fn scopes_of(grid_id: Option<&str>, city: &CityFacts) -> Vec<Scope> {
        let mut scopes = vec![Scope::City];
        if let Some(place) = grid_id.and_then(|g| city.grids.get(g)) {
            scopes.push(Scope::District(place.district.clone()));
            scopes.push(Scope::Street(place.street.clone()));
        }
        scopes
    }

    /// Runs `f` on each scope that an event of `grid_id` folds into.
    pub fn each_of(
        &mut self,
        grid_id: Option<&str>,
        city: &CityFacts,
        mut f: impl FnMut(&Scope, &mut Aggregate),
    ) {
        for scope in Scopes::scopes_of(grid_id, city) {
            if let Some(agg) = self.aggregates.get_mut(&scope) {
                f(&scope, agg);
            }
        }
    }

    /// Folds one event into its scopes; returns the alerts it raised, by scope.
    pub fn fold(&mut self, event: &Event, city: &CityFacts) -> Vec<(Scope, Alert)> {
        let mut raised = Vec::new();
        match event {
            Event::Transition(t) => {
                self.each_of(t.grid_id.as_deref(), city, |scope, agg| {
                    let mut alerts = Vec::new();
                    agg.fold(t, city, &mut alerts);
                    raised.extend(alerts.into_iter().map(|a| (scope.clone(), a)));
                });
                self.log_seq = self.log_seq.max(t.seq);
            }
            Event::Visit(v) => {
                self.each_of(Some(&v.grid_id), city, |_, agg| agg.fold_visit(v, city));
                self.visit_seq = self.visit_seq.max(v.id as u64);
            }
        }
        raised
    }

    /// Moves every scope's day and hour on to those of `now_ms`.
    pub fn advance(&mut self, now_ms: i64) {
        for agg in self.aggregates.values_mut() {
            agg.advance(now_ms);
        }
    }

    pub fn city(&self) -> Option<&Aggregate> {
        self.aggregates.get(&Scope::City)
    }

    /// Recomputes what is not saved, after loading a saved set.
    pub fn after_load(&mut self) {
        for agg in self.aggregates.values_mut() {
            agg.after_load();
        }
    }
}

/// What events do not change: people and housing and the team's size, by scope, and each
/// grid's households.
#[derive(Debug, Clone, Default)]
pub struct Statics {
    pub people: BTreeMap<Scope, People>,
    pub team: BTreeMap<Scope, BTreeMap<String, u64>>,
    pub households: BTreeMap<String, u64>,
}

impl Statics {
    /// Sets these figures in every scope of `scopes`.
    pub fn apply(&self, scopes: &mut Scopes, city: &CityFacts) {
        let mut grids: BTreeMap<Scope, Vec<(&str, u64)>> = BTreeMap::new();
        for (grid, households) in &self.households {
            for scope in Scopes::scopes_of(Some(grid), city) {
                grids.entry(scope).or_default().push((grid, *households));
            }
        }
        for (scope, agg) in scopes.aggregates.iter_mut() {
            agg.set_static(
                self.people.get(scope).copied().unwrap_or_default(),
                self.team.get(scope).unwrap_or(&BTreeMap::new()),
            );
            agg.set_grid_households(grids.remove(scope).unwrap_or_default());
        }
    }
}
