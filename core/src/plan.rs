//! The batch planner: the case writer's decisions, made in memory before anything is written.
//!
//! A batch of commands is decided in queue order against the cases as they stand (read once by
//! the writer) and against the batch's own earlier moves: the caller's role first (403), then
//! the state machine (409, naming the moves it allows), then the caller's reach over the case
//! as it stood (403). Each command that passes takes the next numbers and becomes rows (the
//! case as it is after the batch, its transitions, photo links and house visits) and the event
//! the live feed gets after the commit; each that fails takes nothing and says why.
//!
//! A report or move may carry an idempotency key (`crate::idempotency`). Before anything else,
//! a command whose key is already stored (or was used earlier in the batch) is answered from
//! it: with the stored answer when the request's fingerprint is the same, which writes nothing
//! and takes no number, or refused when another request used the key. A keyed command that
//! writes adds its key to the plan, so that the key and the write commit together.

use crate::event::{Committed, DEFAULT_TIME_LIMIT_HOURS, Event, Facts, Visit};
use crate::idempotency::{Claim, KeyId, KeyRow, StoredKey};
use crate::photo::StoredPhoto;
use crate::policy::{AreaIndex, Denied, Principal};
use shared::auth::Role;
use shared::case::{
    Action, CasePhoto, CaseState, CaseView, Category, FlagNotAllowed, MoveNotAllowed, Point,
    Supervision, TimeLimit,
};
use shared::taxonomy;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// Why a command was refused; the HTTP layer turns each into its status.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// No case with that id (404).
    NotFound(String),
    /// The caller may not (403).
    Denied(Denied),
    /// The state machine does not allow the move from the case's state (409).
    Move(MoveNotAllowed),
    /// The supervision flag does not allow the move (409).
    Flag(FlagNotAllowed),
    /// A field of the command does not fit the case (422).
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The command's idempotency key was used by the same caller on the same route for a
    /// different request (another body or another case) (422).
    KeyReused,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotFound(message) => f.write_str(message),
            Refusal::Denied(denied) => denied.fmt(f),
            Refusal::Move(err) => err.fmt(f),
            Refusal::Flag(err) => err.fmt(f),
            Refusal::Invalid { field, message } => write!(f, "{field}: {message}"),
            Refusal::KeyReused => write!(
                f,
                "the {} was used for a different request (another body, or another case); \
                 a new request needs a new key",
                crate::idempotency::HEADER
            ),
        }
    }
}

impl std::error::Error for Refusal {}

impl From<Denied> for Refusal {
    fn from(denied: Denied) -> Refusal {
        Refusal::Denied(denied)
    }
}

impl From<MoveNotAllowed> for Refusal {
    fn from(err: MoveNotAllowed) -> Refusal {
        Refusal::Move(err)
    }
}

impl From<FlagNotAllowed> for Refusal {
    fn from(err: FlagNotAllowed) -> Refusal {
        Refusal::Flag(err)
    }
}

/// A report that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCase {
    pub category: Category,
    pub sub_item: Option<String>,
    pub grid_id: Option<String>,
    pub point: Option<Point>,
    pub description: String,
}

/// One write the planner decides.
#[derive(Debug)]
pub enum WriteCommand {
    Report {
        new: NewCase,
        who: Arc<Principal>,
        /// The report's photos, already on disk, in the order they were sent.
        photos: Vec<StoredPhoto>,
        /// The request's idempotency key, if it sent one.
        key: Option<Claim>,
    },
    Move {
        case_id: i64,
        action: Action,
        who: Arc<Principal>,
        note: Option<String>,
        department: Option<String>,
        /// The move's photos, already on disk, in the order they were sent.
        photos: Vec<StoredPhoto>,
        /// The request's idempotency key, if it sent one.
        key: Option<Claim>,
    },
    Visit {
        grid_id: String,
        member_id: i64,
        household: String,
    },
}

impl WriteCommand {
    /// The case a move moves.
    pub fn moved_case(&self) -> Option<i64> {
        match self {
            WriteCommand::Move { case_id, .. } => Some(*case_id),
            _ => None,
        }
    }

    /// The command's idempotency key, if it carries one.
    pub fn claim(&self) -> Option<&Claim> {
        match self {
            WriteCommand::Report { key, .. } | WriteCommand::Move { key, .. } => key.as_ref(),
            WriteCommand::Visit { .. } => None,
        }
    }
}

/// What one command produced, before the commit makes it real.
#[derive(Debug)]
pub enum Outcome {
    /// The view is boxed: with its photos it is twice the size of a visit's event.
    Case(Box<CaseView>, Event),
    Visit(Event),
    /// The answer stored with the command's idempotency key: the request was made before, and
    /// this one wrote nothing and has no event.
    Replayed(Box<CaseView>),
}

/// A batch planned in memory and ready to be written.
#[derive(Debug, Default)]
pub struct Plan {
    /// Every case the batch creates or changes, as it is after the batch.
    pub cases: Vec<CaseRecord>,
    pub transitions: Vec<TransitionRow>,
    /// The photos the batch's moves attach, with when they were attached; a photo may come
    /// more than once (with several moves), and already be in the table.
    pub photos: Vec<(StoredPhoto, i64)>,
    pub photo_links: Vec<PhotoLink>,
    pub visits: Vec<Visit>,
    /// The idempotency keys of the batch's keyed writes, to store in its transaction.
    pub keys: Vec<KeyRow>,
    /// One outcome per command, in the batch's order.
    pub outcomes: Vec<Result<Outcome, Refusal>>,
}

/// One case as the writer holds it: every column of its row in `cases`.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRecord {
    pub id: i64,
    pub category: Category,
    pub sub_item: Option<String>,
    pub grid_id: Option<String>,
    pub point: Option<Point>,
    pub description: String,
    pub reported_at_ms: i64,
    pub updated_at_ms: i64,
    pub last_seq: u64,
    pub reporter_id: Option<i64>,
    pub facts: Facts,
    pub dispatched_ms: Option<i64>,
    /// The case's photos, from `transition_photos` (not a column of `cases`): filled by
    /// the store for the cases a batch moves, and by the moves that attach them.
    pub photos: Vec<CasePhoto>,
}

impl CaseRecord {
    pub fn view(&self) -> CaseView {
        CaseView {
            id: self.id,
            category: self.category,
            sub_item: self.sub_item.clone(),
            grid_id: self.grid_id.clone(),
            point: self.point,
            description: self.description.clone(),
            state: self.facts.state,
            allowed: self.facts.state.allowed(),
            department: self.facts.department.clone(),
            supervision: self.facts.supervision,
            deadline_ms: self.facts.deadline_ms,
            reported_at_ms: self.reported_at_ms,
            updated_at_ms: self.updated_at_ms,
            seq: self.last_seq,
            photos: self.photos.clone(),
        }
    }

    /// Applies one action of the state machine at `at`, or says why it is not allowed.
    /// Returns the facts as they were before. A dispatch names `department`, or the
    /// sub-item's default department, and starts the time limit.
    pub fn apply(
        &mut self,
        action: Action,
        department: Option<String>,
        at: i64,
    ) -> Result<Facts, Refusal> {
        let before = self.facts.clone();
        let state = before.state.next(action)?;
        let supervision = before.supervision.after(action)?;
        let mut after = Facts {
            state,
            department: before.department.clone(),
            supervision,
            deadline_ms: before.deadline_ms,
        };
        let mut dispatched_ms = self.dispatched_ms;
        match action {
            Action::Dispatch => {
                let item = self.sub_item.as_deref().and_then(taxonomy::sub_item);
                let chosen = match (department, item) {
                    (Some(d), _) => d,
                    (None, Some(item)) => item.department.to_owned(),
                    (None, None) => {
                        return Err(Refusal::Invalid {
                            field: "department",
                            message:
                                "the case has no sub-item, so name the department to dispatch it to"
                                    .to_owned(),
                        });
                    }
                };
                let hours = item.map_or(DEFAULT_TIME_LIMIT_HOURS, |i| i.time_limit_hours);
                after.department = Some(chosen);
                after.deadline_ms = Some(TimeLimit::new(at, hours).deadline_ms);
                dispatched_ms = Some(at);
            }
            Action::Reopen => {
                after.deadline_ms = None;
                dispatched_ms = None;
            }
            _ => {}
        }
        self.facts = after;
        self.dispatched_ms = dispatched_ms;
        self.updated_at_ms = at;
        Ok(before)
    }

    /// When the time-limit watcher must next look at the case.
    pub fn next_check_ms(&self) -> Option<i64> {
        self.facts.next_check(self.dispatched_ms).map(|(t, _)| t)
    }
}

/// One row of the transition log, before it is written.
#[derive(Debug)]
pub struct TransitionRow {
    pub seq: u64,
    pub case_id: i64,
    pub action: Action,
    pub from: Option<CaseState>,
    pub after: Facts,
    pub actor: String,
    pub role: Role,
    pub at_ms: i64,
    pub note: Option<String>,
}

/// One photo of a move, before it is written: a row of `transition_photos`.
#[derive(Debug)]
pub struct PhotoLink {
    pub seq: u64,
    pub position: usize,
    pub hash: String,
}

/// The free case ids, transition sequence numbers and house-visit ids a batch may use, each
/// list handed out from its back (ascending). The store takes them inside the batch's
/// transaction (`store::case_rows::take_numbers`); a write the batch refuses, or answers from its
/// idempotency key, leaves its number unused, as a rolled-back insert would. Nothing reads the log as gapless: readers ask for what
/// comes after the last number they saw.
#[derive(Debug, Default)]
pub struct Numbers {
    pub seqs: Vec<i64>,
    pub case_ids: Vec<i64>,
    pub visit_ids: Vec<i64>,
}

impl Numbers {
    /// Numbers for a batch of `commands`: its transitions, reports and visits, each list
    /// handed out from its back.
    pub fn count(commands: &[WriteCommand]) -> (usize, usize, usize) {
        commands
            .iter()
            .fold((0, 0, 0), |(t, r, v), command| match command {
                WriteCommand::Report { .. } => (t + 1, r + 1, v),
                WriteCommand::Move { .. } => (t + 1, r, v),
                WriteCommand::Visit { .. } => (t, r, v + 1),
            })
    }

    pub fn next(list: &mut Vec<i64>) -> i64 {
        list.pop()
            .expect("the batch takes a number for every write it may store")
    }
}

/// Decides every write of the batch in queue order, as if each were committed alone: a move
/// sees the moves before it in the same batch. A refused write takes no number and writes
/// nothing; its outcome says why. `keys` are the stored idempotency keys of the batch's keyed
/// commands (the writer reads them in the batch's transaction; others may be left out): a
/// command whose key is among them, or was used earlier in the batch, is answered from it.
pub fn plan_batch(
    batch: Vec<WriteCommand>,
    areas: &AreaIndex,
    mut rows: HashMap<i64, CaseRecord>,
    mut keys: HashMap<KeyId, StoredKey>,
    numbers: &mut Numbers,
    at: i64,
) -> Plan {
    let mut plan = Plan::default();
    // Where each case of the batch sits in `plan.cases`.
    let mut placed: HashMap<i64, usize> = HashMap::new();
    for write in batch {
        if let Some(answer) = write.claim().and_then(|claim| replay(&keys, claim)) {
            plan.outcomes.push(answer);
            continue;
        }
        match write {
            WriteCommand::Report {
                new,
                who,
                photos,
                key,
            } => {
                let mut row =
                    report_row(Numbers::next(&mut numbers.case_ids), new, who.member_id, at);
                let seq = Numbers::next(&mut numbers.seqs) as u64;
                let logged = Logged {
                    before: None,
                    action: Action::Report,
                    who: &who,
                    note: None,
                    photos,
                    seq,
                };
                let (view, event) = log(&mut plan, &mut row, logged);
                placed.insert(row.id, plan.cases.len());
                plan.cases.push(row);
                keep_key(&mut plan, &mut keys, key, &view, at);
                plan.outcomes.push(Ok(Outcome::Case(Box::new(view), event)));
            }
            WriteCommand::Move {
                case_id,
                action,
                who,
                note,
                department,
                photos,
                key,
            } => {
                let slot = placed.get(&case_id).copied();
                let current = match slot {
                    Some(i) => Some(plan.cases[i].clone()),
                    None => rows.remove(&case_id),
                };
                let Some(current) = current else {
                    let refusal = Refusal::NotFound(format!("no case with id {case_id}"));
                    plan.outcomes.push(Err(refusal));
                    continue;
                };
                // The role first (403), then the state machine (409, naming the moves it
                // allows), then the caller's reach over the case as it stood (403).
                let mut row = current.clone();
                let outcome = who
                    .may_make(action)
                    .map_err(Refusal::from)
                    .and_then(|()| row.apply(action, department, at))
                    .and_then(|before| {
                        who.may_touch(
                            current.grid_id.as_deref(),
                            current.facts.department.as_deref(),
                            areas,
                        )
                        .map(|()| before)
                        .map_err(Refusal::from)
                    });
                let before = match outcome {
                    Ok(before) => before,
                    Err(refusal) => {
                        if slot.is_none() {
                            rows.insert(case_id, current);
                        }
                        plan.outcomes.push(Err(refusal));
                        continue;
                    }
                };
                let seq = Numbers::next(&mut numbers.seqs) as u64;
                let logged = Logged {
                    before: Some(before),
                    action,
                    who: &who,
                    note,
                    photos,
                    seq,
                };
                let (view, event) = log(&mut plan, &mut row, logged);
                match slot {
                    Some(i) => plan.cases[i] = row,
                    None => {
                        placed.insert(case_id, plan.cases.len());
                        plan.cases.push(row);
                    }
                }
                keep_key(&mut plan, &mut keys, key, &view, at);
                plan.outcomes.push(Ok(Outcome::Case(Box::new(view), event)));
            }
            WriteCommand::Visit {
                grid_id,
                member_id,
                household,
            } => {
                let visit = Visit {
                    id: Numbers::next(&mut numbers.visit_ids),
                    grid_id,
                    member_id,
                    household,
                    at_ms: at,
                };
                plan.visits.push(visit.clone());
                plan.outcomes.push(Ok(Outcome::Visit(Event::Visit(visit))));
            }
        }
    }
    plan
}

/// One move as the log records it.
struct Logged<'a> {
    /// The case's facts before the move; `None` for a report.
    before: Option<Facts>,
    action: Action,
    /// Who made it: the log records the actor and the role.
    who: &'a Principal,
    note: Option<String>,
    photos: Vec<StoredPhoto>,
    seq: u64,
}

/// The answer to a keyed command whose key is already taken: the stored answer when the
/// request is the same (its fingerprint matches), a refusal when another request used the key.
/// `None` when the key is free, and the command is decided like any other.
fn replay(keys: &HashMap<KeyId, StoredKey>, claim: &Claim) -> Option<Result<Outcome, Refusal>> {
    let stored = keys.get(&claim.id)?;
    Some(if stored.fingerprint == claim.fingerprint {
        Ok(Outcome::Replayed(Box::new(stored.answer.clone())))
    } else {
        Err(Refusal::KeyReused)
    })
}

/// Keeps the key of a command that wrote: stored with the batch, and taken for the commands
/// after it in the batch, which get this answer.
fn keep_key(
    plan: &mut Plan,
    keys: &mut HashMap<KeyId, StoredKey>,
    key: Option<Claim>,
    view: &CaseView,
    at: i64,
) {
    let Some(Claim { id, fingerprint }) = key else {
        return;
    };
    keys.insert(
        id.clone(),
        StoredKey {
            fingerprint: fingerprint.clone(),
            answer: view.clone(),
        },
    );
    plan.keys.push(KeyRow {
        id,
        fingerprint,
        answer: view.clone(),
        created_ms: at,
    });
}

/// Logs one move of `row` (already applied) as transition `seq`: stamps the row, adds the
/// transition row and its photos to the plan, and says what the caller and the live feed get.
fn log(plan: &mut Plan, row: &mut CaseRecord, logged: Logged<'_>) -> (CaseView, Event) {
    let Logged {
        before,
        action,
        who,
        note,
        photos,
        seq,
    } = logged;
    row.last_seq = seq;
    for (position, photo) in photos.into_iter().enumerate() {
        plan.photo_links.push(PhotoLink {
            seq,
            position,
            hash: photo.hash.clone(),
        });
        row.photos.push(CasePhoto {
            hash: photo.hash.clone(),
            content_type: photo.kind.content_type().to_owned(),
            action,
            seq,
        });
        plan.photos.push((photo, row.updated_at_ms));
    }
    plan.transitions.push(TransitionRow {
        seq,
        case_id: row.id,
        action,
        from: before.as_ref().map(|f| f.state),
        after: row.facts.clone(),
        actor: who.actor.clone(),
        role: who.role,
        at_ms: row.updated_at_ms,
        note,
    });
    let committed = Committed {
        seq,
        case_id: row.id,
        action,
        before,
        after: row.facts.clone(),
        at_ms: row.updated_at_ms,
        category: row.category,
        sub_item: row.sub_item.clone(),
        grid_id: row.grid_id.clone(),
        reported_at_ms: row.reported_at_ms,
        reporter_id: row.reporter_id,
        committed_at: std::time::Instant::now(),
    };
    (row.view(), Event::Transition(committed))
}

fn report_row(id: i64, new: NewCase, reporter_id: Option<i64>, at: i64) -> CaseRecord {
    CaseRecord {
        id,
        category: new.category,
        sub_item: new.sub_item,
        grid_id: new.grid_id,
        point: new.point,
        description: new.description,
        reported_at_ms: at,
        updated_at_ms: at,
        last_seq: 0,
        reporter_id,
        facts: Facts {
            state: CaseState::INITIAL,
            department: None,
            supervision: Supervision::None,
            deadline_ms: None,
        },
        dispatched_ms: None,
        photos: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::photo::ImageKind;

    fn reported(id: i64) -> CaseRecord {
        report_row(
            id,
            NewCase {
                category: Category::MunicipalFacilities,
                sub_item: Some("0801".to_owned()),
                grid_id: Some("230602001001001".to_owned()),
                point: None,
                description: "路灯杆倾斜".to_owned(),
            },
            None,
            1_000,
        )
    }

    fn move_of(case_id: i64, action: Action) -> WriteCommand {
        WriteCommand::Move {
            case_id,
            action,
            who: Arc::new(Principal::system("test")),
            note: None,
            department: None,
            photos: Vec::new(),
            key: None,
        }
    }

    fn numbers(first_seq: i64, writes: usize) -> Numbers {
        Numbers {
            seqs: (first_seq..first_seq + writes as i64).rev().collect(),
            case_ids: vec![901],
            visit_ids: Vec::new(),
        }
    }

    /// What a command's outcome says, short enough to compare a whole batch at once: the
    /// case as the caller is told it is (id, state, seq), a visit, or why it was refused.
    #[derive(Debug, PartialEq)]
    enum Seen {
        Case(i64, CaseState, u64),
        Visit,
        NotFound,
        Denied,
        Move,
        Flag,
        Invalid,
        /// Answered from its idempotency key with the case as the first request left it.
        Replayed(i64, CaseState, u64),
        KeyReused,
    }

    fn seen(outcome: &Result<Outcome, Refusal>) -> Seen {
        match outcome {
            Ok(Outcome::Case(view, _)) => Seen::Case(view.id, view.state, view.seq),
            Ok(Outcome::Visit(_)) => Seen::Visit,
            Err(Refusal::NotFound(_)) => Seen::NotFound,
            Err(Refusal::Denied(_)) => Seen::Denied,
            Err(Refusal::Move(_)) => Seen::Move,
            Err(Refusal::Flag(_)) => Seen::Flag,
            Err(Refusal::Invalid { .. }) => Seen::Invalid,
            Ok(Outcome::Replayed(view)) => Seen::Replayed(view.id, view.state, view.seq),
            Err(Refusal::KeyReused) => Seen::KeyReused,
        }
    }

    #[test]
    fn moves_in_one_batch_see_the_moves_before_them() {
        let rows = HashMap::from([(7, reported(7))]);
        let dispatch = move_of(7, Action::Dispatch);
        let accept = move_of(7, Action::Accept);
        let again = move_of(7, Action::Accept);
        let elsewhere = move_of(8, Action::Dispatch);
        let report = WriteCommand::Report {
            new: NewCase {
                category: Category::MunicipalFacilities,
                sub_item: None,
                grid_id: None,
                point: None,
                description: "井盖缺失".to_owned(),
            },
            who: Arc::new(Principal::system("test")),
            photos: Vec::new(),
            key: None,
        };
        let mut numbers = numbers(100, 5);
        let plan = plan_batch(
            vec![dispatch, accept, again, elsewhere, report],
            &AreaIndex::default(),
            rows,
            HashMap::new(),
            &mut numbers,
            5_000,
        );

        // The refused moves say why and take no number.
        assert_eq!(plan.outcomes.len(), 5);
        assert!(matches!(plan.outcomes[2], Err(Refusal::Move(_))));
        assert!(matches!(plan.outcomes[3], Err(Refusal::NotFound(_))));
        let seqs: Vec<u64> = plan.transitions.iter().map(|t| t.seq).collect();
        assert_eq!(seqs, [100, 101, 102]);
        assert_eq!(numbers.seqs, [104, 103]);

        // One row per case, as it is after the batch.
        assert_eq!(plan.cases.len(), 2);
        let case = &plan.cases[0];
        assert_eq!(case.id, 7);
        assert_eq!(case.facts.state, CaseState::Accepted);
        assert_eq!(case.last_seq, 101);
        assert_eq!(case.dispatched_ms, Some(5_000));
        assert_eq!(case.facts.department.as_deref(), Some("D01"));
        assert_eq!(plan.cases[1].id, 901);
        assert_eq!(plan.cases[1].last_seq, 102);

        // Each transition row and each answer describe the case as it was after that move.
        let t = &plan.transitions;
        assert_eq!(
            (t[0].action, t[0].from, t[0].after.state),
            (
                Action::Dispatch,
                Some(CaseState::Reported),
                CaseState::Dispatched
            )
        );
        assert_eq!(
            (t[1].action, t[1].from, t[1].after.state),
            (
                Action::Accept,
                Some(CaseState::Dispatched),
                CaseState::Accepted
            )
        );
        assert_eq!(
            (t[2].case_id, t[2].action, t[2].from),
            (901, Action::Report, None)
        );
        // One outcome per command, in the batch's order: the accepted ones carry the case as
        // that move left it, the refused ones why.
        let outcomes: Vec<Seen> = plan.outcomes.iter().map(seen).collect();
        assert_eq!(
            outcomes,
            [
                Seen::Case(7, CaseState::Dispatched, 100),
                Seen::Case(7, CaseState::Accepted, 101),
                Seen::Move,
                Seen::NotFound,
                Seen::Case(901, CaseState::Reported, 102),
            ]
        );
    }

    #[test]
    fn a_refused_move_leaves_the_case_for_the_next_one() {
        let rows = HashMap::from([(7, reported(7))]);
        let accept = move_of(7, Action::Accept);
        let dispatch = move_of(7, Action::Dispatch);
        let plan = plan_batch(
            vec![accept, dispatch],
            &AreaIndex::default(),
            rows,
            HashMap::new(),
            &mut numbers(1, 2),
            5_000,
        );
        assert_eq!(plan.transitions.len(), 1);
        assert_eq!(plan.cases.len(), 1);
        assert_eq!(plan.cases[0].facts.state, CaseState::Dispatched);
        let outcomes: Vec<Seen> = plan.outcomes.iter().map(seen).collect();
        assert_eq!(
            outcomes,
            [Seen::Move, Seen::Case(7, CaseState::Dispatched, 1)]
        );
    }

    #[test]
    fn photos_hang_off_their_move_and_show_on_every_later_answer() {
        let photo = |hash: &str, kind| StoredPhoto {
            hash: hash.repeat(64),
            kind,
            bytes: 100,
        };
        let mut before = reported(7);
        before.photos.push(CasePhoto {
            hash: "a".repeat(64),
            content_type: "image/jpeg".to_owned(),
            action: Action::Report,
            seq: 3,
        });
        let rows = HashMap::from([(7, before)]);
        let with_photos = |action, photos: Vec<StoredPhoto>| match move_of(7, action) {
            WriteCommand::Move {
                case_id,
                action,
                who,
                note,
                department,
                ..
            } => WriteCommand::Move {
                case_id,
                action,
                who,
                note,
                department,
                photos,
                key: None,
            },
            other => other,
        };
        let dispatch = with_photos(Action::Dispatch, vec![]);
        // Refused (a dispatched case cannot be verified): its photo is not recorded.
        let refused = with_photos(Action::Verify, vec![photo("c", ImageKind::Png)]);
        let accept = with_photos(Action::Accept, vec![]);
        let resolve = with_photos(
            Action::Resolve,
            vec![photo("b", ImageKind::Png), photo("a", ImageKind::Jpeg)],
        );
        let plan = plan_batch(
            vec![dispatch, refused, accept, resolve],
            &AreaIndex::default(),
            rows,
            HashMap::new(),
            &mut numbers(10, 4),
            5_000,
        );
        let links: Vec<(u64, usize, char)> = plan
            .photo_links
            .iter()
            .map(|l| (l.seq, l.position, l.hash.chars().next().unwrap_or(' ')))
            .collect();
        assert_eq!(links, [(12, 0, 'b'), (12, 1, 'a')]);
        assert_eq!(plan.photos.len(), 2);
        assert!(plan.photos.iter().all(|(_, at)| *at == 5_000));
        // The refused move is answered with why; every accepted one shows the photos so far.
        assert!(matches!(plan.outcomes[1], Err(Refusal::Move(_))));
        let shown: Vec<Option<Vec<(Action, u64)>>> = plan
            .outcomes
            .iter()
            .map(|o| match o {
                Ok(Outcome::Case(view, _)) => {
                    Some(view.photos.iter().map(|p| (p.action, p.seq)).collect())
                }
                Ok(Outcome::Visit(_) | Outcome::Replayed(_)) => {
                    panic!("no visit or keyed write was queued")
                }
                Err(_) => None,
            })
            .collect();
        assert_eq!(
            shown,
            [
                Some(vec![(Action::Report, 3)]),
                None,
                Some(vec![(Action::Report, 3)]),
                Some(vec![
                    (Action::Report, 3),
                    (Action::Resolve, 12),
                    (Action::Resolve, 12)
                ]),
            ]
        );
        let resolved = &plan.cases[0].photos[1];
        assert_eq!(resolved.content_type, "image/png");
    }

    #[test]
    fn a_move_its_caller_may_not_make_records_none_of_its_photos() {
        let staff = |department: &str| Principal {
            actor: format!("staff-{department}"),
            identity: format!("account:staff-{department}"),
            role: Role::DepartmentStaff,
            area: None,
            department: Some(department.to_owned()),
            grids: Default::default(),
            member_id: None,
        };
        let worker = Principal {
            actor: "worker".to_owned(),
            role: Role::GridWorker,
            grids: ["230602001001001".to_owned()].into(),
            ..staff("D01")
        };
        let photo = StoredPhoto {
            hash: "d".repeat(64),
            kind: ImageKind::Jpeg,
            bytes: 100,
        };
        let mut queue = Vec::new();
        for (action, who, department, photos) in [
            // The system dispatches to D01, without photos.
            (
                Action::Dispatch,
                Principal::system("test"),
                Some("D01"),
                vec![],
            ),
            // A grid worker's role does not accept: refused before the state machine.
            (Action::Accept, worker, None, vec![photo.clone()]),
            // D02's staff may accept, but the case is D01's: refused after it.
            (Action::Accept, staff("D02"), None, vec![photo.clone()]),
            // D01's staff may, and its photo is recorded.
            (Action::Accept, staff("D01"), None, vec![photo.clone()]),
        ] {
            queue.push(WriteCommand::Move {
                case_id: 7,
                action,
                who: Arc::new(who),
                note: None,
                department: department.map(str::to_owned),
                photos,
                key: None,
            });
        }
        let rows = HashMap::from([(7, reported(7))]);
        let plan = plan_batch(
            queue,
            &AreaIndex::default(),
            rows,
            HashMap::new(),
            &mut numbers(20, 4),
            5_000,
        );
        // The accepted moves carry the case as they left it; the others are forbidden.
        let outcomes: Vec<Seen> = plan.outcomes.iter().map(seen).collect();
        assert_eq!(
            outcomes,
            [
                Seen::Case(7, CaseState::Dispatched, 20),
                Seen::Denied,
                Seen::Denied,
                Seen::Case(7, CaseState::Accepted, 21),
            ]
        );
        let links: Vec<(u64, usize)> = plan
            .photo_links
            .iter()
            .map(|l| (l.seq, l.position))
            .collect();
        assert_eq!(links, [(21, 0)]);
        assert_eq!(plan.photos.len(), 1);
        assert_eq!(plan.transitions.len(), 2);
        assert_eq!(plan.transitions[1].role, Role::DepartmentStaff);
    }

    /// A claim on key `key` by `caller` on the report route, for a request whose body is
    /// `body`.
    fn claim(caller: &str, key: &str, body: &str) -> Claim {
        Claim {
            id: KeyId {
                caller: caller.to_owned(),
                route: "POST /api/cases".to_owned(),
                key: key.to_owned(),
            },
            fingerprint: format!("fingerprint of {body}"),
        }
    }

    fn keyed(write: WriteCommand, claim: Claim) -> WriteCommand {
        match write {
            WriteCommand::Report {
                new, who, photos, ..
            } => WriteCommand::Report {
                new,
                who,
                photos,
                key: Some(claim),
            },
            WriteCommand::Move {
                case_id,
                action,
                who,
                note,
                department,
                photos,
                ..
            } => WriteCommand::Move {
                case_id,
                action,
                who,
                note,
                department,
                photos,
                key: Some(claim),
            },
            visit => visit,
        }
    }

    fn report_of(description: &str) -> WriteCommand {
        WriteCommand::Report {
            new: NewCase {
                category: Category::MunicipalFacilities,
                sub_item: Some("0801".to_owned()),
                grid_id: Some("230602001001001".to_owned()),
                point: None,
                description: description.to_owned(),
            },
            who: Arc::new(Principal::system("test")),
            photos: Vec::new(),
            key: None,
        }
    }

    /// The key `k` of caller `a` as a stored key whose first request was `body` and produced
    /// case 42.
    fn stored_key(body: &str) -> HashMap<KeyId, StoredKey> {
        let claim = claim("a", "k", body);
        let mut answer = reported(42).view();
        answer.seq = 17;
        HashMap::from([(
            claim.id,
            StoredKey {
                fingerprint: claim.fingerprint,
                answer,
            },
        )])
    }

    #[test]
    fn a_retried_request_gets_the_stored_answer_and_writes_nothing() {
        let retry = keyed(report_of("井盖缺失"), claim("a", "k", "井盖缺失"));
        let mut numbers = numbers(100, 1);
        let plan = plan_batch(
            vec![retry],
            &AreaIndex::default(),
            HashMap::new(),
            stored_key("井盖缺失"),
            &mut numbers,
            5_000,
        );
        let outcomes: Vec<Seen> = plan.outcomes.iter().map(seen).collect();
        assert_eq!(outcomes, [Seen::Replayed(42, CaseState::Reported, 17)]);
        // Nothing is written and no number is taken: no case, no transition, no key.
        assert!(plan.cases.is_empty() && plan.transitions.is_empty() && plan.keys.is_empty());
        assert_eq!(numbers.seqs, [100]);
        assert_eq!(numbers.case_ids, [901]);
    }

    #[test]
    fn a_key_used_for_another_request_is_refused_and_writes_nothing() {
        let other = keyed(report_of("垃圾满溢"), claim("a", "k", "垃圾满溢"));
        let plan = plan_batch(
            vec![other],
            &AreaIndex::default(),
            HashMap::new(),
            stored_key("井盖缺失"),
            &mut numbers(100, 1),
            5_000,
        );
        let outcomes: Vec<Seen> = plan.outcomes.iter().map(seen).collect();
        assert_eq!(outcomes, [Seen::KeyReused]);
        assert!(plan.cases.is_empty() && plan.transitions.is_empty() && plan.keys.is_empty());
        let refusal = plan.outcomes[0].as_ref().expect_err("refused").to_string();
        assert!(
            refusal.contains("Idempotency-Key was used for a different request"),
            "{refusal}"
        );
    }

    #[test]
    fn the_same_key_twice_in_a_batch_gets_the_first_answer() {
        let rows = HashMap::from([(7, reported(7))]);
        let dispatch = || keyed(move_of(7, Action::Dispatch), claim("a", "k", "dispatch"));
        // Another request on the same key, after the first: refused, though the state
        // machine would take it.
        let accept = keyed(move_of(7, Action::Accept), claim("a", "k", "accept"));
        let plan = plan_batch(
            vec![dispatch(), dispatch(), accept],
            &AreaIndex::default(),
            rows,
            HashMap::new(),
            &mut numbers(100, 3),
            5_000,
        );
        let outcomes: Vec<Seen> = plan.outcomes.iter().map(seen).collect();
        assert_eq!(
            outcomes,
            [
                Seen::Case(7, CaseState::Dispatched, 100),
                Seen::Replayed(7, CaseState::Dispatched, 100),
                Seen::KeyReused,
            ]
        );
        assert_eq!(plan.transitions.len(), 1);
        // The key is stored once, with the write it belongs to and the batch's time.
        assert_eq!(plan.keys.len(), 1);
        let row = &plan.keys[0];
        assert_eq!(row.id, claim("a", "k", "dispatch").id);
        assert_eq!((row.answer.id, row.answer.seq), (7, 100));
        assert_eq!(row.created_ms, 5_000);
    }

    #[test]
    fn keys_belong_to_their_caller_and_route() {
        let first = keyed(report_of("井盖缺失"), claim("b", "k", "井盖缺失"));
        let mut on_moves = claim("a", "k", "dispatch");
        on_moves.id.route = "POST /api/cases/{id}/moves".to_owned();
        let second = keyed(move_of(7, Action::Dispatch), on_moves);
        let plan = plan_batch(
            vec![first, second],
            &AreaIndex::default(),
            HashMap::from([(7, reported(7))]),
            stored_key("井盖缺失"),
            &mut numbers(100, 2),
            5_000,
        );
        // Caller `a`'s key on the report route is taken; `b`'s, and `a`'s on another route,
        // are free.
        let outcomes: Vec<Seen> = plan.outcomes.iter().map(seen).collect();
        assert_eq!(
            outcomes,
            [
                Seen::Case(901, CaseState::Reported, 100),
                Seen::Case(7, CaseState::Dispatched, 101),
            ]
        );
        assert_eq!(plan.keys.len(), 2);
    }

    #[test]
    fn a_refused_keyed_write_keeps_no_key() {
        let accept = || keyed(move_of(7, Action::Accept), claim("a", "k", "accept"));
        let plan = plan_batch(
            vec![accept(), accept()],
            &AreaIndex::default(),
            HashMap::from([(7, reported(7))]),
            HashMap::new(),
            &mut numbers(100, 2),
            5_000,
        );
        // Nothing was written, so the retry is decided again rather than answered from a key.
        let outcomes: Vec<Seen> = plan.outcomes.iter().map(seen).collect();
        assert_eq!(outcomes, [Seen::Move, Seen::Move]);
        assert!(plan.keys.is_empty());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;
        use std::collections::HashSet;

        /// Every action: the report, the moves, and the time-limit watcher's steps.
        static ACTIONS: std::sync::LazyLock<Vec<Action>> = std::sync::LazyLock::new(|| {
            std::iter::once(Action::Report)
                .chain(Action::MOVES)
                .chain(Action::WATCHER)
                .collect()
        });

        /// A random write: a report (`None`) or an action on one of cases 1 to 6, of which
        /// only 1 to 4 exist; made by the system or by a grid worker of grid G1; with one of
        /// three idempotency keys or none.
        fn write() -> impl Strategy<Value = (Option<(i64, usize)>, bool, Option<u8>)> {
            (
                prop_oneof![1 => Just(None), 6 => (1i64..=6, 0..ACTIONS.len()).prop_map(Some)],
                any::<bool>(),
                proptest::option::of(0u8..3),
            )
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// However a run of batches goes, the log and the current rows agree: every
            /// transition is a move the state machine allows from the state the case was
            /// in, each case's row is where its last transition left it, sequence numbers
            /// run without gaps, every write is answered exactly once, and a refused write
            /// leaves no trace. A keyed write whose key was used before (in an earlier batch
            /// or earlier in its own) writes nothing: the same request gets the first answer,
            /// another is refused; a keyed write that writes stores its key with its answer.
            #[test]
            fn the_log_and_the_rows_always_agree(
                batches in proptest::collection::vec(proptest::collection::vec(write(), 1..24), 1..8)
            ) {
                let mut stored: HashMap<i64, CaseRecord> =
                    (1..=4).map(|id| (id, CaseRecord { grid_id: Some("G1".to_owned()), ..reported(id) })).collect();
                let mut log: Vec<TransitionRow> = Vec::new();
                let mut keys: HashMap<KeyId, StoredKey> = HashMap::new();
                let (mut next_seq, mut next_case) = (1i64, 100i64);
                let worker = Arc::new(Principal {
                    grids: HashSet::from(["G2".to_owned()]),
                    ..Principal { role: Role::GridWorker, ..Principal::system("worker") }
                });
                for (b, batch) in batches.into_iter().enumerate() {
                    let mut writes = Vec::new();
                    let mut claims = Vec::new();
                    for (i, (what, by_worker, key)) in batch.into_iter().enumerate() {
                        // Reports are checked before they are queued, so only moves come from
                        // the worker here.
                        let who = if by_worker && what.is_some() {
                            worker.clone()
                        } else {
                            Arc::new(Principal::system("test"))
                        };
                        // Every write carries a photo of its own, so that the photos recorded
                        // show which writes were.
                        let photos = vec![StoredPhoto {
                            hash: format!("{:064x}", b * 1_000 + i),
                            kind: ImageKind::Jpeg,
                            bytes: 1,
                        }];
                        // The same write with the same key is the same request (a retry); the
                        // key is the test's on one route.
                        let key = key.map(|k| Claim {
                            id: KeyId {
                                caller: "test".to_owned(),
                                route: "POST /cases".to_owned(),
                                key: format!("k{k}"),
                            },
                            fingerprint: format!("{what:?} {by_worker}"),
                        });
                        claims.push(key.clone());
                        writes.push(match what {
                            None => WriteCommand::Report {
                                new: NewCase {
                                    category: Category::MunicipalFacilities,
                                    sub_item: Some("0801".to_owned()),
                                    grid_id: Some("G1".to_owned()),
                                    point: None,
                                    description: "p".to_owned(),
                                },
                                who,
                                photos,
                                key,
                            },
                            Some((case_id, a)) => WriteCommand::Move {
                                case_id,
                                action: ACTIONS[a],
                                who,
                                note: None,
                                department: None,
                                photos,
                                key,
                            },
                        });
                    }
                    let n = writes.len();
                    let mut numbers = Numbers {
                        seqs: (next_seq..next_seq + n as i64).rev().collect(),
                        case_ids: (next_case..next_case + n as i64).rev().collect(),
                        visit_ids: Vec::new(),
                    };
                    let at = 1_000 + b as i64;
                    let plan = plan_batch(writes, &AreaIndex::default(), stored.clone(), keys.clone(), &mut numbers, at);

                    // Every write is answered once: each has its outcome, refused, replayed or
                    // accepted, and the accepted ones are the transitions written, in order.
                    prop_assert_eq!(plan.outcomes.len(), n);
                    let refused = plan.outcomes.iter().filter(|o| o.is_err()).count();
                    let replays = plan
                        .outcomes
                        .iter()
                        .filter(|o| matches!(o, Ok(Outcome::Replayed(_))))
                        .count();
                    let accepted: Vec<u64> = plan
                        .outcomes
                        .iter()
                        .filter_map(|o| match o {
                            Ok(Outcome::Case(view, _)) => Some(view.seq),
                            Ok(Outcome::Visit(_)) => Some(u64::MAX),
                            Ok(Outcome::Replayed(_)) | Err(_) => None,
                        })
                        .collect();
                    prop_assert_eq!(refused + replays + accepted.len(), n);
                    // Each key answers as its first use did: the same request with the first
                    // answer, another with a refusal. A key is kept only by a write that wrote,
                    // stored with the batch's time, once.
                    let mut taken = keys.clone();
                    let mut kept = Vec::new();
                    for (claim, outcome) in claims.iter().zip(&plan.outcomes) {
                        let first = claim.as_ref().and_then(|c| taken.get(&c.id));
                        match (claim, first, outcome) {
                            (Some(c), Some(first), Ok(Outcome::Replayed(view))) => {
                                prop_assert_eq!(&first.fingerprint, &c.fingerprint);
                                prop_assert_eq!(&first.answer, &**view);
                            }
                            (Some(c), Some(first), Err(Refusal::KeyReused)) => {
                                prop_assert_ne!(&first.fingerprint, &c.fingerprint);
                            }
                            (_, Some(_), other) => {
                                prop_assert!(false, "a used key was not answered from: {:?}", other);
                            }
                            (_, None, Ok(Outcome::Replayed(_)) | Err(Refusal::KeyReused)) => {
                                prop_assert!(false, "a free key was answered as a used one");
                            }
                            (Some(c), None, Ok(Outcome::Case(view, _))) => {
                                taken.insert(c.id.clone(), StoredKey {
                                    fingerprint: c.fingerprint.clone(),
                                    answer: (**view).clone(),
                                });
                                kept.push(KeyRow {
                                    id: c.id.clone(),
                                    fingerprint: c.fingerprint.clone(),
                                    answer: (**view).clone(),
                                    created_ms: at,
                                });
                            }
                            _ => {}
                        }
                    }
                    prop_assert_eq!(&plan.keys, &kept);
                    prop_assert_eq!(plan.transitions.len(), accepted.len());
                    // A written move records its photo with its own transition; a refused one
                    // records none.
                    let linked: Vec<u64> = plan.photo_links.iter().map(|l| l.seq).collect();
                    let written: Vec<u64> = plan.transitions.iter().map(|t| t.seq).collect();
                    prop_assert_eq!(&accepted, &written);
                    prop_assert_eq!(linked, written);
                    prop_assert_eq!(plan.photos.len(), plan.transitions.len());
                    // Numbers are taken in order, only for what is written.
                    for (i, t) in plan.transitions.iter().enumerate() {
                        prop_assert_eq!(t.seq as i64, next_seq + i as i64);
                    }
                    next_seq += plan.transitions.len() as i64;
                    next_case += (n - numbers.case_ids.len()) as i64;
                    // Each transition follows from the case's state just before it, and the
                    // grid worker, who makes no move on G1's cases, made none.
                    let mut state: HashMap<i64, CaseState> =
                        stored.iter().map(|(id, row)| (*id, row.facts.state)).collect();
                    for t in &plan.transitions {
                        match t.from {
                            None => {
                                prop_assert_eq!(t.action, Action::Report);
                                prop_assert!(!state.contains_key(&t.case_id));
                                prop_assert_eq!(t.role, Role::System);
                            }
                            Some(from) => {
                                prop_assert_eq!(state.get(&t.case_id), Some(&from));
                                prop_assert_eq!(from.next(t.action).ok(), Some(t.after.state));
                                prop_assert_eq!(t.role, Role::System);
                            }
                        }
                        state.insert(t.case_id, t.after.state);
                    }
                    // Each row written is where its last transition left it.
                    let ids: Vec<i64> = plan.cases.iter().map(|c| c.id).collect();
                    prop_assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
                    for row in &plan.cases {
                        let last = plan.transitions.iter().rev().find(|t| t.case_id == row.id);
                        prop_assert!(last.is_some(), "case {} written without a transition", row.id);
                        let last = last.unwrap();
                        prop_assert_eq!(row.last_seq, last.seq);
                        prop_assert_eq!(&row.facts, &last.after);
                        prop_assert_eq!(row.dispatched_ms.is_some(), row.facts.deadline_ms.is_some());
                    }
                    // Cases the batch did not touch keep their rows; the batch's keys are stored.
                    for row in plan.cases {
                        stored.insert(row.id, row);
                    }
                    for row in plan.keys {
                        keys.insert(row.id, StoredKey { fingerprint: row.fingerprint, answer: row.answer });
                    }
                    log.extend(plan.transitions);
                }
                // Over the whole run, replaying the log gives every row.
                let mut replayed: HashMap<i64, CaseState> =
                    (1..=4).map(|id| (id, CaseState::Reported)).collect();
                for t in &log {
                    replayed.insert(t.case_id, t.after.state);
                }
                for (id, row) in &stored {
                    prop_assert_eq!(replayed.get(id), Some(&row.facts.state));
                }
            }
        }
    }
}
