//! Conformance behaviours of the resume policy across machines: each step of
//! [`SessionService::find_resumable`] against the one after it, sessions without a repository
//! identity kept to their machine, and a session moving to the machine it is continued on.

use super::*;
use pretty_assertions::assert_eq;

const REPO: &str = "example.com/team/app";

/// A session as a writer on `host` makes it in `folder` of a checkout of `repository` at
/// `checkout` (under the fake root), with one user message at `at_ms`.
async fn stored_on(
    service: &Service,
    host: &str,
    checkout: &str,
    folder: &str,
    repository: Option<&str>,
    at_ms: i64,
) -> Session {
    let directory = if folder.is_empty() {
        checkout.to_owned()
    } else {
        format!("{checkout}/{folder}")
    };
    let session = Session {
        location: Location {
            host: Some(host.to_owned()),
            repository: repository.map(str::to_owned),
            repository_folder: Some(PathBuf::from(folder)),
        },
        ..session(&directory, Some(checkout), at_ms)
    };
    let events = chain(&session, None, at_ms, vec![user("hello")]);
    store(service, &session, &events).await
}

/// The lookup of a launch on [`HERE`] in `folder` of the checkout at `checkout`.
fn launched_here(
    checkout: &str,
    folder: &str,
    repository: Option<&str>,
    since: i64,
) -> ResumeQuery {
    let directory = if folder.is_empty() {
        checkout.to_owned()
    } else {
        format!("{checkout}/{folder}")
    };
    ResumeQuery {
        directory: dir(&directory),
        git_root: Some(dir(checkout)),
        location: Location {
            host: Some(HERE.to_owned()),
            repository: repository.map(str::to_owned),
            repository_folder: Some(PathBuf::from(folder)),
        },
        updated_since_ms: Some(since),
    }
}

async fn found(service: &Service, query: &ResumeQuery) -> Option<SessionId> {
    service
        .find_resumable(query)
        .await
        .expect("find")
        .map(|session| session.id)
}

pub async fn resume_step_1_the_exact_directory_here_beats_the_same_folder_elsewhere(
    service: Service,
) {
    let here = stored_on(&service, HERE, "laptop/app", "src", Some(REPO), 1_000).await;
    stored_on(&service, "desktop", "desk/app", "src", Some(REPO), 9_000).await;
    // The same path on another machine is another folder.
    stored_on(&service, "desktop", "laptop/app", "src", None, 9_500).await;
    let query = launched_here("laptop/app", "src", Some(REPO), 0);
    assert_eq!(found(&service, &query).await, Some(here.id));
}

pub async fn resume_step_2_the_same_folder_elsewhere_beats_this_work_tree(service: Service) {
    stored_on(&service, HERE, "laptop/app", "", Some(REPO), 9_000).await;
    let elsewhere = stored_on(&service, "desktop", "desk/app", "src", Some(REPO), 1_000).await;
    stored_on(&service, "desktop", "desk/app", "docs", Some(REPO), 9_500).await;
    let query = launched_here("laptop/app", "src", Some(REPO), 0);
    assert_eq!(found(&service, &query).await, Some(elsewhere.id));
}

pub async fn resume_step_3_this_work_tree_beats_other_folders_elsewhere(service: Service) {
    let sibling = stored_on(&service, HERE, "laptop/app", "docs", Some(REPO), 1_000).await;
    stored_on(&service, "desktop", "desk/app", "lib", Some(REPO), 9_000).await;
    let query = launched_here("laptop/app", "src", Some(REPO), 0);
    assert_eq!(found(&service, &query).await, Some(sibling.id));
}

pub async fn resume_step_4_the_repository_on_any_machine_within_the_window(service: Service) {
    stored_on(&service, "desktop", "desk/app", "lib", Some(REPO), 1_000).await;
    let newest = stored_on(&service, "server", "srv/app", "", Some(REPO), 2_000).await;
    stored_on(
        &service,
        "desktop",
        "desk/other",
        "src",
        Some("example.com/team/other"),
        9_000,
    )
    .await;
    let query = launched_here("laptop/app", "src", Some(REPO), 0);
    assert_eq!(found(&service, &query).await, Some(newest.id));
    // Outside the window nothing is resumed.
    let query = launched_here("laptop/app", "src", Some(REPO), 2_001);
    assert_eq!(found(&service, &query).await, None);
}

pub async fn resume_without_a_repository_identity_stays_on_this_machine(service: Service) {
    // Another machine's sessions at the very same paths, without a remote to tell whether
    // the repository is the same.
    stored_on(&service, "desktop", "home/app", "src", None, 9_000).await;
    stored_on(&service, "desktop", "home/app", "", None, 9_000).await;
    let query = launched_here("home/app", "src", None, 0);
    assert_eq!(found(&service, &query).await, None);

    // A session stored before hosts were recorded counts as this machine's, at both steps.
    let legacy = Session {
        location: Location::default(),
        ..session("home/app", Some("home/app"), 5_000)
    };
    let legacy = store(
        &service,
        &legacy,
        &chain(&legacy, None, 5_000, vec![user("old")]),
    )
    .await;
    assert_eq!(found(&service, &query).await, Some(legacy.id));
    let exact = launched_here("home/app", "", None, 0);
    assert_eq!(found(&service, &exact).await, Some(legacy.id));
}

pub async fn recording_the_location_moves_a_session_to_another_machine(service: Service) {
    let session = stored_on(&service, "desktop", "desk/app", "src", Some(REPO), 1_000).await;
    let moved = Session {
        directory: dir("laptop/app/src"),
        git_root: Some(dir("laptop/app")),
        location: Location {
            host: Some(HERE.to_owned()),
            ..session.location.clone()
        },
        ..session.clone()
    };
    service.record_location(&moved).await.expect("record");
    assert_eq!(
        service.get_session(session.id).await.expect("get"),
        Some(moved.clone())
    );
    // Now it is this machine's, found by its exact directory (step 1 beats a newer step 2).
    let rival = stored_on(&service, "desktop", "desk/app", "src", Some(REPO), 2_000).await;
    let query = launched_here("laptop/app", "src", Some(REPO), 0);
    assert_eq!(found(&service, &query).await, Some(session.id));
    assert_ne!(rival.id, session.id);

    let unknown = Session {
        id: SessionId::new(),
        ..moved
    };
    assert!(matches!(
        service.record_location(&unknown).await,
        Err(ServiceError::NotFound(id)) if id == unknown.id
    ));
}

pub async fn listings_include_the_repository_on_other_machines(service: Service) {
    let here = stored_on(&service, HERE, "laptop/app", "src", Some(REPO), 1_000).await;
    let there = stored_on(&service, "desktop", "desk/app", "docs", Some(REPO), 2_000).await;
    stored_on(
        &service,
        "desktop",
        "desk/other",
        "",
        Some("example.com/x/y"),
        3_000,
    )
    .await;
    let filter = |repository: Option<&str>| WorkspaceFilter {
        directory: dir("laptop/app/src"),
        git_root: Some(dir("laptop/app")),
        repository: repository.map(str::to_owned),
    };
    let listed = |workspace: WorkspaceFilter| {
        let service = service.clone();
        async move {
            let filter = SessionFilter {
                workspace: Some(workspace),
                ..SessionFilter::default()
            };
            let listed = service.list_sessions(&filter).await.expect("list");
            let counts = service
                .count_sessions(filter.workspace.as_ref())
                .await
                .expect("count");
            (
                listed
                    .into_iter()
                    .map(|summary| summary.session.id)
                    .collect::<Vec<_>>(),
                counts.active,
            )
        }
    };
    assert_eq!(
        listed(filter(Some(REPO))).await,
        (vec![there.id, here.id], 2)
    );
    assert_eq!(listed(filter(None)).await, (vec![here.id], 1));
    // Outside a repository, by directory, the repository still reaches other machines.
    let plain = WorkspaceFilter {
        git_root: None,
        ..filter(Some(REPO))
    };
    assert_eq!(listed(plain).await, (vec![there.id, here.id], 2));
}
