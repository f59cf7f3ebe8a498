//! Conformance behaviours of the resume lookup: the window, the exact directory before the
//! git root, what is never resumed, and workspaces told apart byte for byte.

use super::*;
use pretty_assertions::assert_eq;

pub async fn resume_window_boundary_is_inclusive(service: Service) {
    let session = stored_conversation(&service, "window", None, 50_000).await;
    let at_boundary = service
        .find_resumable(&resume_query("window", None, Some(50_000)))
        .await
        .expect("find");
    assert_eq!(at_boundary.map(|s| s.id), Some(session.id));
    let just_outside = service
        .find_resumable(&resume_query("window", None, Some(50_001)))
        .await
        .expect("find");
    assert_eq!(just_outside, None);
}

pub async fn resume_without_window_finds_old_sessions(service: Service) {
    let old = stored_conversation(&service, "old", None, 1).await;
    let newer = stored_conversation(&service, "old", None, 2).await;
    let found = service
        .find_resumable(&resume_query("old", None, None))
        .await
        .expect("find");
    assert_eq!(found.map(|s| s.id), Some(newer.id));
    assert_ne!(old.id, newer.id);
}

pub async fn resume_prefers_exact_directory_over_newer_git_root_sibling(service: Service) {
    let exact = stored_conversation(&service, "repo/app", Some("repo"), 1_000).await;
    stored_conversation(&service, "repo/docs", Some("repo"), 9_000).await;
    stored_conversation(&service, "repo", Some("repo"), 8_000).await;
    let found = service
        .find_resumable(&resume_query("repo/app", Some("repo"), Some(0)))
        .await
        .expect("find");
    assert_eq!(found, Some(exact));
}

pub async fn resume_falls_back_to_git_root_sibling(service: Service) {
    stored_conversation(&service, "repo/docs", Some("repo"), 1_000).await;
    let newest_sibling = stored_conversation(&service, "repo/lib", Some("repo"), 2_000).await;
    // A session in this very directory but outside the window does not block the fallback.
    stored_conversation(&service, "repo/app", Some("repo"), 100).await;
    let found = service
        .find_resumable(&resume_query("repo/app", Some("repo"), Some(500)))
        .await
        .expect("find");
    assert_eq!(found, Some(newest_sibling));

    // Without a git root there is no fallback.
    let found = service
        .find_resumable(&resume_query("repo/app", None, Some(500)))
        .await
        .expect("find");
    assert_eq!(found, None);
}

pub async fn resume_never_picks_other_workspaces_archived_or_note_only(service: Service) {
    stored_conversation(&service, "elsewhere", Some("other-repo"), 5_000).await;
    stored_conversation(&service, "here-too", None, 5_000).await;
    let archived = stored_conversation(&service, "here", Some("repo"), 6_000).await;
    service
        .set_archived(archived.id, Some(7_000))
        .await
        .expect("archive");
    let notes_only = session("here", Some("repo"), 8_000);
    let notes = chain(
        &notes_only,
        None,
        8_000,
        vec![
            note("just a note"),
            EventKind::Error {
                message: "no key".to_owned(),
            },
        ],
    );
    store(&service, &notes_only, &notes).await;

    let found = service
        .find_resumable(&resume_query("here", Some("repo"), Some(0)))
        .await
        .expect("find");
    assert_eq!(found, None);

    // Un-archiving makes it resumable again.
    service
        .set_archived(archived.id, None)
        .await
        .expect("unarchive");
    let found = service
        .find_resumable(&resume_query("here", Some("repo"), Some(0)))
        .await
        .expect("find");
    assert_eq!(found.map(|s| s.id), Some(archived.id));
}

/// Folder names are bytes on Unix, not always UTF-8: `p\xff` and `p\xfe` are two folders,
/// and a lossy conversion would make them one workspace. Paths round-trip exactly and are
/// matched exactly, for the resume lookup and for listings.
pub async fn paths_that_differ_only_in_non_utf8_bytes_are_two_workspaces(service: Service) {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    let in_folder = |name: &[u8], at_ms: i64| Session {
        directory: dir("bytes").join(OsStr::from_bytes(name)),
        git_root: Some(dir("bytes").join(OsStr::from_bytes(name))),
        ..session("unused", None, at_ms)
    };
    let ff = in_folder(b"p\xff", 1_000);
    let fe = in_folder(b"p\xfe", 2_000);
    let ff = store(&service, &ff, &chain(&ff, None, 1_000, vec![user("ff")])).await;
    let fe = store(&service, &fe, &chain(&fe, None, 2_000, vec![user("fe")])).await;
    assert_eq!(
        service.get_session(ff.id).await.expect("get"),
        Some(ff.clone())
    );

    let resumed = |session: &Session| ResumeQuery {
        directory: session.directory.clone(),
        git_root: session.git_root.clone(),
        location: session.location.clone(),
        updated_since_ms: None,
    };
    assert_eq!(
        (
            service.find_resumable(&resumed(&ff)).await.expect("find"),
            service.find_resumable(&resumed(&fe)).await.expect("find"),
        ),
        (Some(ff.clone()), Some(fe.clone()))
    );
    // The lossy spelling both would share names neither.
    let lossy = Session {
        directory: dir("bytes/p\u{fffd}"),
        git_root: Some(dir("bytes/p\u{fffd}")),
        ..ff.clone()
    };
    assert_eq!(
        service
            .find_resumable(&resumed(&lossy))
            .await
            .expect("find"),
        None
    );

    let listed = service
        .list_sessions(&SessionFilter {
            workspace: Some(WorkspaceFilter {
                directory: ff.directory.clone(),
                git_root: ff.git_root.clone(),
                repository: None,
            }),
            ..SessionFilter::default()
        })
        .await
        .expect("list");
    assert_eq!(
        listed
            .into_iter()
            .map(|summary| summary.session)
            .collect::<Vec<_>>(),
        vec![ff]
    );
}
