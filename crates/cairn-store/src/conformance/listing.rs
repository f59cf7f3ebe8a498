//! Behaviours of counting what a listing shows and leaves out.

use cairn_core::service::SessionCounts;

use super::*;
use pretty_assertions::assert_eq;

/// Counts follow the same workspace rules as the listing, archived sessions apart.
pub async fn counts_match_the_listing_by_workspace_and_archive_state(service: Service) {
    let empty = service.count_sessions(None).await.expect("count");
    assert_eq!(empty, SessionCounts::default());

    stored_conversation(&service, "repo/app", Some("repo"), 1_000).await;
    stored_conversation(&service, "repo/docs", Some("repo"), 2_000).await;
    stored_conversation(&service, "plain", None, 3_000).await;
    let archived = stored_conversation(&service, "repo/app", Some("repo"), 4_000).await;
    service
        .set_archived(archived.id, Some(5_000))
        .await
        .expect("archive");

    let count = |directory: &str, git_root: Option<&str>| {
        let service = service.clone();
        let workspace = WorkspaceFilter {
            directory: dir(directory),
            git_root: git_root.map(dir),
            repository: None,
        };
        async move {
            service
                .count_sessions(Some(&workspace))
                .await
                .expect("count")
        }
    };
    assert_eq!(
        [
            service.count_sessions(None).await.expect("count"),
            count("repo/app", Some("repo")).await,
            count("repo/app", None).await,
            count("plain", None).await,
            count("elsewhere", None).await,
        ],
        [
            SessionCounts {
                active: 3,
                archived: 1
            },
            SessionCounts {
                active: 2,
                archived: 1
            },
            SessionCounts {
                active: 1,
                archived: 1
            },
            SessionCounts {
                active: 1,
                archived: 0
            },
            SessionCounts::default(),
        ]
    );
}
