//! The behaviour every [`SessionService`] backend must show, written against the trait only.
//!
//! Each behaviour is a `pub async fn` taking a fresh, empty service; it panics (it is test
//! code) when the backend misbehaves. A backend runs the whole suite with one line in its
//! tests, [`conformance_tests!`](crate::conformance_tests), which expands to one
//! `#[tokio::test]` per behaviour, so a failure names the behaviour and a behaviour added here
//! runs against every backend. Behaviours that need to write what the trait cannot (rows of
//! an unknown event type, say) belong to the backend's own tests.
//!
//! Times are fixed milliseconds, far from "now", so nothing depends on the wall clock.

// Test code: a panic with a message is how a behaviour reports failure.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;

use cairn_core::service::{ResumeQuery, WorkspaceFilter};
use cairn_core::{
    Event, EventId, EventKind, InvocationId, LoadedSession, Location, ServiceError, Session,
    SessionFilter, SessionId, SessionService, SessionSummary,
};

mod continuation;
mod copy;
mod core;
mod fixtures;
mod listing;
mod machines;
mod model;
mod resume;
mod search;
mod titles;
mod tree;
mod turns;
pub use continuation::*;
pub use copy::*;
pub use core::*;
pub use fixtures::*;
pub use listing::*;
pub use machines::*;
pub use model::*;
pub use resume::*;
pub use search::*;
pub use titles::*;
pub use tree::*;
pub use turns::*;

/// A service under test, fresh and empty.
pub type Service = Arc<dyn SessionService>;

/// What the closure given to [`conformance_tests!`](crate::conformance_tests) returns: a
/// service with what keeps it alive, or maybe one.
pub trait FreshService {
    type Keep;
    fn into_fresh(self) -> Option<(Self::Keep, Service)>;
}

impl<K> FreshService for (K, Service) {
    type Keep = K;
    fn into_fresh(self) -> Option<(K, Service)> {
        Some(self)
    }
}

impl<K> FreshService for Option<(K, Service)> {
    type Keep = K;
    fn into_fresh(self) -> Option<(K, Service)> {
        self
    }
}

/// Expands to the whole conformance suite: one `#[tokio::test]` per behaviour, each against
/// its own fresh service.
///
/// `$fresh` is an async closure (or function) taking nothing and returning `(keep, service)`:
/// a fresh, empty [`Service`] and whatever must live as long as the test uses it (a temporary
/// directory, a guard that drops a scratch database; `()` if nothing), or an `Option` of that
/// pair, `None` when the backend cannot be tested on this machine (a server that is not
/// installed: the closure says so, and the test passes). Call it once, at the
/// top level of an integration test file; the caller needs `tokio` (with `macros` and `rt`)
/// among its dev-dependencies.
///
/// ```text
/// cairn_store::conformance_tests!(async || {
///     let dir = tempfile::tempdir().unwrap();
///     let service = SqliteSessionService::open(&dir.path().join("sessions.db")).await.unwrap();
///     (dir, Arc::new(service) as Service)
/// });
/// ```
#[macro_export]
macro_rules! conformance_tests {
    ($fresh:expr) => {
        $crate::conformance_tests!(@lists $fresh; search: yes; tree: yes);
    };
    // A backend that cannot search yet: the search behaviours are replaced by one checking
    // that it says so clearly rather than returning nothing.
    ($fresh:expr; without search) => {
        $crate::conformance_tests!(@lists $fresh; search: no; tree: yes);
    };
    // A backend that can neither search nor switch branches and fork yet: both groups are
    // replaced by checks that it refuses clearly.
    ($fresh:expr; without search, tree) => {
        $crate::conformance_tests!(@lists $fresh; search: no; tree: no);
    };
    // The behaviours, each named once: the core ones, then the groups a backend may lack.
    (@lists $fresh:expr; search: $search:ident; tree: $tree:ident) => {
        $crate::conformance_tests!(@suite $fresh; search: $search; tree: $tree;
            core: [
                create_and_load_round_trip,
                create_refuses_a_taken_id,
                chain_order_follows_links_not_timestamps,
                append_with_current_head_moves_head_and_counts,
                append_with_stale_head_conflicts_and_writes_nothing,
                branch_from_earlier_event_abandons_the_old_tail,
                recent_events_are_the_newest_of_the_head_branch,
                listing_filters_and_orders,
                prefix_lookup_ignores_hyphens_and_case,
                rename_sets_title,
                a_user_title_is_never_replaced_by_an_automatic_one,
                automatic_titles_are_listed_as_such_and_replace_each_other,
                concurrent_automatic_titles_never_overwrite_a_rename,
                a_checked_title_is_replaced_only_by_the_user,
                archive_and_unarchive_keep_updated_at,
                delete_removes_session_and_events,
                unknown_ids_are_not_found,
                counts_match_the_listing_by_workspace_and_archive_state,
                a_sessions_model_is_stored_and_can_be_changed,
                resume_window_boundary_is_inclusive,
                resume_without_window_finds_old_sessions,
                resume_prefers_exact_directory_over_newer_git_root_sibling,
                resume_falls_back_to_git_root_sibling,
                resume_never_picks_other_workspaces_archived_or_note_only,
                paths_that_differ_only_in_non_utf8_bytes_are_two_workspaces,
                resume_step_1_the_exact_directory_here_beats_the_same_folder_elsewhere,
                resume_step_2_the_same_folder_elsewhere_beats_this_work_tree,
                resume_step_3_this_work_tree_beats_other_folders_elsewhere,
                resume_step_4_the_repository_on_any_machine_within_the_window,
                resume_without_a_repository_identity_stays_on_this_machine,
                recording_the_location_moves_a_session_to_another_machine,
                listings_include_the_repository_on_other_machines,
                exported_sessions_come_back_whole_and_only_once,
                imported_events_of_unknown_types_are_kept,
                imported_sessions_are_found_by_what_was_said,
                an_import_page_that_cannot_be_written_writes_nothing,
                a_lease_is_exclusive_until_it_expires,
                renewing_extends_and_releasing_frees_the_lease,
                concurrent_acquisitions_grant_one_lease,
                a_draft_is_settled_by_its_invocations_next_append,
                deleting_a_session_removes_its_lease_and_drafts,
                the_session_version_changes_with_every_write,
                a_continued_session_keeps_its_link_and_is_the_one_resumed,
            ];
            tree: [
                every_event_of_every_branch_can_be_read,
                switching_the_head_changes_the_branch_and_the_counts,
                a_stale_or_concurrent_switch_conflicts_and_writes_nothing,
                switching_to_an_event_of_another_session_is_refused,
                a_fork_copies_a_branch_and_records_its_origin,
                a_fork_from_an_event_of_another_session_writes_nothing,
            ];
            search: [
                search_ranks_one_message_with_every_word_first,
                search_phrases_and_prefixes,
                search_folds_case_and_accents_and_finds_cjk,
                search_finds_messages_not_notes,
                search_sees_what_is_stored_and_filters,
                search_filters_hold_below_many_better_matches,
                search_indexes_huge_and_unbroken_messages,
            ];
        );
    };
    (@suite $fresh:expr; search: $search:ident; tree: $tree:ident;
        core: [$($core:ident),* $(,)?];
        tree: [$($branching:ident),* $(,)?];
        search: [$($searching:ident),* $(,)?];
    ) => {
        $crate::conformance_tests!(@tests $fresh; $($core),*);
        $crate::conformance_tests!(@tree $tree $fresh; $($branching),*);
        $crate::conformance_tests!(@search $search $fresh; $($searching),*);

        /// A behaviour written in the suite but missing from the lists above would silently
        /// run for no backend.
        #[test]
        fn conformance_suite_runs_every_behaviour() {
            let mut written = $crate::conformance::behaviours();
            written.sort_unstable();
            let mut listed = ::std::vec![
                $(::std::stringify!($core),)*
                $(::std::stringify!($branching),)*
                $(::std::stringify!($searching),)*
            ];
            listed.sort_unstable();
            ::std::assert_eq!(written, listed);
        }
    };
    (@tree yes $fresh:expr; $($behaviour:ident),*) => {
        $crate::conformance_tests!(@tests $fresh; $($behaviour),*);
    };
    (@tree no $fresh:expr; $($behaviour:ident),*) => {
        #[tokio::test]
        async fn switching_and_forking_are_refused_with_a_clear_error() {
            let fresh = $crate::conformance::FreshService::into_fresh(($fresh)().await);
            let ::std::option::Option::Some((_keep, service)) = fresh else {
                return;
            };
            $crate::conformance::switching_and_forking_are_refused_clearly(service).await;
        }
    };
    (@search yes $fresh:expr; $($behaviour:ident),*) => {
        $crate::conformance_tests!(@tests $fresh; $($behaviour),*);
    };
    (@search no $fresh:expr; $($behaviour:ident),*) => {
        #[tokio::test]
        async fn search_is_refused_with_a_clear_error() {
            let fresh = $crate::conformance::FreshService::into_fresh(($fresh)().await);
            let ::std::option::Option::Some((_keep, service)) = fresh else {
                return;
            };
            $crate::conformance::search_is_refused_clearly(service).await;
        }
    };
    (@tests $fresh:expr; $($behaviour:ident),*) => {
        $(
            #[tokio::test]
            async fn $behaviour() {
                let fresh = $crate::conformance::FreshService::into_fresh(($fresh)().await);
                let ::std::option::Option::Some((_keep, service)) = fresh else {
                    return;
                };
                $crate::conformance::$behaviour(service).await;
            }
        )*
    };
}

/// The names of the behaviours in this file and its submodules, in order: every
/// `pub async fn` that takes just a [`Service`]. Read from the source, since Rust cannot list
/// a module's functions; this is what keeps the list in
/// [`conformance_tests!`](crate::conformance_tests) complete.
pub fn behaviours() -> Vec<&'static str> {
    [
        include_str!("conformance/continuation.rs"),
        include_str!("conformance/copy.rs"),
        include_str!("conformance/core.rs"),
        include_str!("conformance/listing.rs"),
        include_str!("conformance/machines.rs"),
        include_str!("conformance/model.rs"),
        include_str!("conformance/resume.rs"),
        include_str!("conformance/search.rs"),
        include_str!("conformance/titles.rs"),
        include_str!("conformance/turns.rs"),
        include_str!("conformance/tree.rs"),
    ]
    .into_iter()
    .flat_map(|source| source.split("\npub async fn ").skip(1))
    .filter_map(|definition| {
        let (name, rest) = definition.split_once('(')?;
        let (parameters, _) = rest.split_once(')')?;
        // rustfmt may put a long signature's parameter on a line of its own.
        let parameters = parameters.trim().trim_end_matches(',');
        (parameters == "service: Service").then_some(name)
    })
    .collect()
}
