//! Seeing other processes at work in the same session, for the [`SessionManager`]: what they
//! appended, their turn in progress, an archive or a deletion, read cheaply about once a
//! second through the store's change marker.

use super::SessionManager;
use crate::event::Event;
use crate::lease::LeaseHolder;
use crate::service::Result;

/// What another process did to the session since [`SessionManager::refresh`] last looked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionChanges {
    /// Events another process appended, now on the in-memory branch.
    pub appended: Vec<Event>,
    /// Another process's turn in progress, if one is answering now.
    pub other_turn: Option<OtherTurn>,
    /// Another process archived the session (it is un-archived when this one writes to it).
    pub archived_elsewhere: bool,
    /// Another process deleted the session. The manager switched to a fresh session holding
    /// the events that were not yet stored, if any.
    pub deleted: bool,
}

/// Another process answering in this session: who, and its answer as last saved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OtherTurn {
    pub holder: LeaseHolder,
    pub answer_so_far: String,
}

impl SessionManager {
    /// Looks (cheaply) whether another process changed the session since the last look, and
    /// if so adopts what it appended, reads its turn in progress, and notices an archive or a
    /// deletion. `None` when nothing changed: the usual case, one small read. A chat window
    /// calls this about once a second.
    pub async fn refresh(&mut self) -> Result<Option<SessionChanges>> {
        if !self.session_stored {
            return Ok(None);
        }
        let session_id = self.session.id;
        let Some(version) = self.service.session_version(session_id).await? else {
            // Stored, yet no longer in storage.
            self.move_pending_to_fresh_session();
            return Ok(Some(SessionChanges {
                deleted: true,
                ..SessionChanges::default()
            }));
        };
        if self.seen_version.as_ref() == Some(&version) {
            return Ok(None);
        }
        self.seen_version = Some(version.clone());
        let mut changes = SessionChanges::default();
        // With events of our own still unwritten, the next persist merges instead.
        if version.head_id != self.stored_head && self.pending_count() == 0 {
            let loaded = self.service.load_session(session_id).await?;
            changes.appended = loaded
                .events
                .iter()
                .filter(|event| !self.stored_ids.contains(&event.id))
                .cloned()
                .collect();
            let title = std::mem::take(&mut self.session.title);
            let held_boundary = self.held_boundary.take();
            self.adopt(loaded);
            self.held_boundary = held_boundary;
            if self.session.title.is_empty() {
                self.session.title = title;
            }
        }
        if version.archived_at_ms.is_some() && self.session.archived_at_ms.is_none() {
            changes.archived_elsewhere = true;
        }
        self.session.archived_at_ms = version.archived_at_ms;
        let now = self.clock.now_ms();
        if let Some((holder, expires_at_ms)) = version.lease
            && holder != self.invocation_id
            && expires_at_ms <= now
            && self.pending_count() == 0
        {
            // Its holder stopped mid-answer: what it streamed becomes an interrupted answer
            // here and now, and its stale lease goes, so nobody keeps looking at it.
            let before = self.events.len();
            self.recover_drafts().await?;
            changes
                .appended
                .extend(self.events[before..].iter().cloned());
            self.service.release_lease(session_id, holder).await?;
            self.seen_version = None;
        }
        if let Some((holder, expires_at_ms)) = version.lease
            && holder != self.invocation_id
            && expires_at_ms > now
            && let Some(lease) = self.service.current_lease(session_id).await?
            && lease.holder.invocation_id == holder
            && lease.is_held(now)
        {
            let answer_so_far = self
                .service
                .drafts(session_id)
                .await?
                .into_iter()
                .find(|draft| draft.invocation_id == holder)
                .map(|draft| draft.text)
                .unwrap_or_default();
            changes.other_turn = Some(OtherTurn {
                holder: lease.holder,
                answer_so_far,
            });
        }
        Ok(Some(changes))
    }

    /// Whether another terminal's lease, as last seen by [`SessionManager::refresh`], ran out
    /// without being renewed or given back: its holder stopped. The next refresh should look
    /// again even though nothing in storage changed.
    pub fn seen_lease_lapsed(&self) -> bool {
        let now = self.clock.now_ms();
        self.seen_version
            .as_ref()
            .and_then(|version| version.lease)
            .is_some_and(|(holder, expires_at_ms)| {
                holder != self.invocation_id && expires_at_ms <= now
            })
    }

    /// Forgets the last-seen change marker, so the next [`SessionManager::refresh`] reads
    /// the session's state again.
    pub fn forget_seen_version(&mut self) {
        self.seen_version = None;
    }

    /// Writing to a session makes it active again: if another process archived it, it is
    /// un-archived. Returns whether it was.
    pub(super) async fn unarchive_if_archived_elsewhere(&mut self) -> Result<bool> {
        let archived = self
            .service
            .get_session(self.session.id)
            .await?
            .is_some_and(|row| row.archived_at_ms.is_some());
        if archived {
            self.service.set_archived(self.session.id, None).await?;
        }
        self.session.archived_at_ms = None;
        Ok(archived)
    }

    /// The session was deleted by another process: switch to a fresh session holding the
    /// events storage never got, so nothing typed here is lost. Stored events are not
    /// copied: deleting them was someone's decision.
    pub(super) fn move_pending_to_fresh_session(&mut self) {
        let pending: Vec<Event> = self
            .events
            .iter()
            .filter(|event| !self.stored_ids.contains(&event.id))
            .cloned()
            .collect();
        self.create_new();
        for mut event in pending {
            event.session_id = self.session.id;
            event.parent_id = self.tip;
            self.tip = Some(event.id);
            self.events.push(event);
        }
    }
}
