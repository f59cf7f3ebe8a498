//! The turn in progress, for the [`SessionManager`]: taking and renewing the session's turn
//! lease, saving the answer so far as a draft, and recovering the drafts of writers that
//! stopped mid-answer (see [`crate::lease`]).

use std::sync::Arc;

use super::SessionManager;
use crate::clock::Clock;
use crate::event::{Event, EventKind};
use crate::ids::{EventId, InvocationId, SessionId};
use crate::lease::{AnswerDraft, LEASE_TTL_MS, LeaseHolder, LeaseOutcome};
use crate::service::{Result, SessionService};

/// Renews a turn's lease and saves its draft; see [`SessionManager::turn_heartbeat`].
#[derive(Clone)]
pub struct TurnHeartbeat {
    service: Arc<dyn SessionService>,
    clock: Arc<dyn Clock>,
    session_id: SessionId,
    invocation_id: InvocationId,
    session_stored: bool,
    question_id: Option<EventId>,
}

impl TurnHeartbeat {
    /// `false` when the lease was lost (this process stalled past its expiry).
    pub async fn beat(&self, answer_so_far: &str, model: &str) -> Result<bool> {
        let now = self.clock.now_ms();
        let held = self
            .service
            .renew_lease(self.session_id, self.invocation_id, now, LEASE_TTL_MS)
            .await?;
        if !answer_so_far.is_empty() && self.session_stored {
            self.service
                .save_draft(&AnswerDraft {
                    session_id: self.session_id,
                    invocation_id: self.invocation_id,
                    question_id: self.question_id,
                    model: Some(model.to_owned()),
                    text: answer_so_far.to_owned(),
                    updated_at_ms: now,
                })
                .await?;
        }
        Ok(held)
    }
}

/// An answer recovered from the draft of a Cairn that stopped while it streamed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecoveredAnswer {
    pub event_id: EventId,
    /// When its text was last saved: at most a second before its writer stopped.
    pub saved_at_ms: i64,
    pub chars: usize,
}

impl SessionManager {
    /// Turns the drafts of writers that are gone (no live lease of theirs) into assistant
    /// messages marked interrupted, right after the branch's current end, and stores them.
    /// Each recovered event keeps its writer's invocation id, so appending it settles the
    /// draft in the same transaction: a draft is recovered once, even by two processes at
    /// once (the second one's append conflicts and finds the draft gone).
    ///
    /// Then the tool calls such a writer left without a result get one saying they were
    /// interrupted and not run (see [`SessionManager::close_interrupted_calls`]).
    pub async fn recover_drafts(&mut self) -> Result<Vec<RecoveredAnswer>> {
        let recovered = self.recover_answer_drafts().await?;
        self.close_interrupted_calls().await?;
        Ok(recovered)
    }

    /// Records, for each tool call at the end of the branch that another invocation left
    /// without a result, a decision and a result saying it was interrupted and not run, and
    /// stores them: such a call is shown as interrupted and never run again. A writer that
    /// still holds the turn lease may be running its calls, so its are left alone.
    pub async fn close_interrupted_calls(&mut self) -> Result<usize> {
        let call_ids: Vec<String> = crate::turn::unanswered_calls(&self.events, self.invocation_id)
            .into_iter()
            .map(str::to_owned)
            .collect();
        if call_ids.is_empty() || !self.session_stored {
            return Ok(0);
        }
        let now = self.clock.now_ms();
        let live_holder = self
            .service
            .current_lease(self.session.id)
            .await?
            .filter(|lease| lease.is_held(now) && lease.holder.invocation_id != self.invocation_id);
        if live_holder.is_some() {
            return Ok(0);
        }
        for call_id in &call_ids {
            for kind in crate::turn::interrupted_call_events(call_id.clone()) {
                let event = self.make_event(kind, now);
                self.tip = Some(event.id);
                self.events.push(event);
            }
        }
        self.persist_pending().await?;
        Ok(call_ids.len())
    }

    async fn recover_answer_drafts(&mut self) -> Result<Vec<RecoveredAnswer>> {
        let session_id = self.session.id;
        let drafts = self.service.drafts(session_id).await?;
        if drafts.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.clock.now_ms();
        let live_holder = self
            .service
            .current_lease(session_id)
            .await?
            .filter(|lease| lease.is_held(now))
            .map(|lease| lease.holder.invocation_id);
        let mut recovered = Vec::new();
        for draft in drafts {
            if Some(draft.invocation_id) == live_holder
                || draft.invocation_id == self.invocation_id
                || draft.text.is_empty()
            {
                continue;
            }
            let event = Event {
                id: EventId::new(),
                session_id,
                parent_id: self.tip,
                invocation_id: draft.invocation_id,
                created_at_ms: draft.updated_at_ms,
                kind: EventKind::AssistantMessage {
                    text: draft.text.clone(),
                    usage: None,
                    interrupted: true,
                    model: draft.model.clone(),
                },
            };
            self.tip = Some(event.id);
            recovered.push(RecoveredAnswer {
                event_id: event.id,
                saved_at_ms: draft.updated_at_ms,
                chars: draft.text.chars().count(),
            });
            self.events.push(event);
        }
        if !recovered.is_empty() {
            self.persist_pending().await?;
        }
        Ok(recovered)
    }

    /// This process as the holder of a turn lease.
    pub fn lease_holder(&self) -> LeaseHolder {
        LeaseHolder::this_process(self.invocation_id)
    }

    /// Asks for the session's turn lease, to answer in it without interleaving with another
    /// terminal; take it before the question is written.
    pub async fn acquire_turn(&self) -> Result<LeaseOutcome> {
        let holder = self.lease_holder();
        let now = self.clock.now_ms();
        let outcome = self
            .service
            .acquire_lease(self.session.id, &holder, now, LEASE_TTL_MS)
            .await?;
        match outcome {
            LeaseOutcome::HeldBy(lease) if lease.holder.is_known_dead() => {
                // Its process is gone: free its lease now rather than at expiry. Releasing
                // names the dead holder, so a lease someone else took meanwhile is kept.
                self.service
                    .release_lease(self.session.id, lease.holder.invocation_id)
                    .await?;
                self.service
                    .acquire_lease(self.session.id, &holder, now, LEASE_TTL_MS)
                    .await
            }
            outcome => Ok(outcome),
        }
    }

    /// Keeps the lease alive and saves the answer so far, about once a second while it
    /// streams. `false` when the lease was lost (this process stalled past its expiry).
    pub async fn heartbeat(&self, answer_so_far: &str, model: &str) -> Result<bool> {
        self.turn_heartbeat().beat(answer_so_far, model).await
    }

    /// What [`SessionManager::heartbeat`] needs, detached from the manager, so a task of its
    /// own can beat while the answer streams and a slow store never holds the stream up.
    pub fn turn_heartbeat(&self) -> TurnHeartbeat {
        TurnHeartbeat {
            service: Arc::clone(&self.service),
            clock: Arc::clone(&self.clock),
            session_id: self.session.id,
            invocation_id: self.invocation_id,
            session_stored: self.session_stored,
            question_id: self
                .events
                .iter()
                .rev()
                .find(|event| matches!(event.kind, EventKind::UserMessage { .. }))
                .map(|event| event.id),
        }
    }

    /// Gives the lease back once the turn's events are stored.
    pub async fn release_turn(&self) -> Result<()> {
        self.service
            .release_lease(self.session.id, self.invocation_id)
            .await
    }
}
