//! The [`SessionManager`] on one store shared by two machines with the same repository
//! checked out at different paths: the conversation follows the user, and moves to the
//! machine it is continued on once something is written there.

// Helpers outside `#[test]` functions panic on failure too; that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;

use cairn_core::{
    EventKind, Location, ManualClock, ResumePolicy, SessionManager, SessionService, StartOutcome,
    Workspace,
};
use cairn_store::SqliteSessionService;
use pretty_assertions::assert_eq;

const T0: i64 = 1_700_000_000_000;
const MINUTE: i64 = 60_000;
const REPO: &str = "example.com/team/app";

fn on(
    host: &str,
    checkout: &str,
    service: &Arc<dyn SessionService>,
    clock: &ManualClock,
) -> SessionManager {
    SessionManager::new(
        service.clone(),
        Arc::new(clock.clone()),
        Workspace {
            directory: PathBuf::from(checkout).join("src"),
            git_root: Some(PathBuf::from(checkout)),
            git_branch: None,
            repository: Some(REPO.to_owned()),
            host: host.to_owned(),
        },
        ResumePolicy {
            continue_minutes: 60,
        },
    )
}

fn user(text: &str) -> EventKind {
    EventKind::UserMessage {
        text: text.to_owned(),
    }
}

#[tokio::test]
async fn a_conversation_follows_the_repository_to_another_machine_and_moves_there() {
    let dir = tempfile::tempdir().unwrap();
    let service: Arc<dyn SessionService> = Arc::new(
        SqliteSessionService::open(&dir.path().join("sessions.db"))
            .await
            .unwrap(),
    );
    let clock = ManualClock::new(T0);

    let mut desktop = on("desktop", "/home/ada/app", &service, &clock);
    assert!(matches!(desktop.start().await.unwrap(), StartOutcome::New));
    desktop.push(user("why is the build slow?"));
    desktop.persist_pending().await.unwrap();
    let id = desktop.session().id;
    let started = service.get_session(id).await.unwrap().unwrap();
    assert_eq!(
        (started.directory.clone(), started.location.clone()),
        (
            PathBuf::from("/home/ada/app/src"),
            Location {
                host: Some("desktop".to_owned()),
                repository: Some(REPO.to_owned()),
                repository_folder: Some(PathBuf::from("src")),
            }
        )
    );

    clock.advance_ms(10 * MINUTE);
    let mut laptop = on("laptop", "/Users/ada/code/app", &service, &clock);
    let StartOutcome::Resumed(info) = laptop.start().await.unwrap() else {
        panic!("the laptop did not resume the desktop's conversation");
    };
    assert_eq!(info.session_id, id);
    // Opening it moves nothing.
    assert_eq!(service.get_session(id).await.unwrap(), Some(started));

    laptop.push(user("and on the laptop?"));
    laptop.persist_pending().await.unwrap();
    let moved = service.get_session(id).await.unwrap().unwrap();
    assert_eq!(
        (moved.directory, moved.git_root, moved.location),
        (
            PathBuf::from("/Users/ada/code/app/src"),
            Some(PathBuf::from("/Users/ada/code/app")),
            Location {
                host: Some("laptop".to_owned()),
                repository: Some(REPO.to_owned()),
                repository_folder: Some(PathBuf::from("src")),
            }
        )
    );

    // Back on the desktop, the same folder of the repository finds it on the laptop.
    clock.advance_ms(MINUTE);
    let mut desktop = on("desktop", "/home/ada/app", &service, &clock);
    let StartOutcome::Resumed(info) = desktop.start().await.unwrap() else {
        panic!("the desktop did not resume the conversation continued on the laptop");
    };
    assert_eq!(info.session_id, id);
    assert_eq!(desktop.events().filter(|e| e.kind.is_message()).count(), 2);
}
