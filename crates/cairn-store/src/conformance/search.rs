//! Finding sessions by what was said: ranking, the query language, scripts and accents,
//! and that a search sees exactly what is stored (nothing archived unless asked, nothing
//! deleted).

use cairn_core::search::{SearchHit, SearchQuery, SearchRequest};

use super::*;
use pretty_assertions::assert_eq;

/// For a backend that cannot search (`conformance_tests!(..; without search)`): a search is
/// an error that says so, never an empty list that looks like "nothing found". Not part of
/// the suite every backend runs (its signature takes the service by another name).
pub async fn search_is_refused_clearly(backend: Service) {
    let session = conversation(&backend, "here", 1_000, &["findable words"]).await;
    let error = backend
        .search(&everywhere("findable"))
        .await
        .expect_err("a backend that cannot search says so");
    assert!(error.to_string().contains("cannot search"), "{error}");
    let _ = session;
}

/// Every workspace, archived sessions left out, up to 20 sessions.
fn everywhere(query: &str) -> SearchRequest {
    SearchRequest {
        query: SearchQuery::parse(query).expect("a valid query"),
        workspace: None,
        include_archived: false,
        limit: 20,
    }
}

async fn search(service: &Service, request: &SearchRequest) -> Vec<SearchHit> {
    service.search(request).await.expect("search")
}

fn hit_ids(hits: &[SearchHit]) -> Vec<SessionId> {
    hits.iter().map(|hit| hit.session.id).collect()
}

/// A stored session in `directory` saying `said`, alternately as user and assistant.
async fn conversation(service: &Service, directory: &str, at_ms: i64, said: &[&str]) -> Session {
    let session = session(directory, None, at_ms);
    let kinds = said
        .iter()
        .enumerate()
        .map(|(index, text)| {
            if index % 2 == 0 {
                user(text)
            } else {
                assistant(text)
            }
        })
        .collect();
    let events = chain(&session, None, at_ms, kinds);
    store(service, &session, &events).await
}

/// A session where one message holds every word ranks above one where the words are spread
/// over several messages; both are found; the snippet shows the match.
pub async fn search_ranks_one_message_with_every_word_first(service: Service) {
    let scattered = conversation(
        &service,
        "a",
        1_000,
        &["the borrow checker again", "let us talk about lifetimes"],
    )
    .await;
    let together = conversation(
        &service,
        "b",
        2_000,
        &["hello", "the borrow checker rejects these lifetimes"],
    )
    .await;
    conversation(&service, "c", 3_000, &["only the borrow checker here"]).await;

    let hits = search(&service, &everywhere("lifetimes borrow")).await;
    assert_eq!(hit_ids(&hits), vec![together.id, scattered.id]);
    assert!(hits[0].score > hits[1].score);
    let snippet = &hits[0].snippets[0];
    assert_eq!(snippet.session_id, together.id);
    assert!(
        snippet
            .text
            .contains("borrow checker rejects these lifetimes"),
        "{snippet:?}"
    );
    let matched: Vec<&str> = snippet
        .highlights
        .iter()
        .map(|range| &snippet.text[range.clone()])
        .collect();
    assert_eq!(matched, ["borrow", "lifetimes"]);
    assert_eq!(hits[1].snippets.len(), 2, "a passage for each word");
}

/// `"exact phrase"` needs the words in order, next to each other; `word*` is a prefix.
pub async fn search_phrases_and_prefixes(service: Service) {
    let in_order = conversation(&service, "a", 1_000, &["enable write ahead logging"]).await;
    let apart = conversation(&service, "b", 2_000, &["write the log ahead of time"]).await;

    let phrase = search(&service, &everywhere(r#""write ahead""#)).await;
    assert_eq!(hit_ids(&phrase), vec![in_order.id]);
    let words = search(&service, &everywhere("write ahead")).await;
    assert_eq!(words.len(), 2);

    let prefix = search(&service, &everywhere("logg*")).await;
    assert_eq!(hit_ids(&prefix), vec![in_order.id]);
    let whole_word = search(&service, &everywhere("logg")).await;
    assert!(whole_word.is_empty(), "{whole_word:?}");
    let _ = apart;
}

/// Case and accents do not matter, and runs of Chinese, Japanese or Korean characters are
/// found inside text written without spaces.
pub async fn search_folds_case_and_accents_and_finds_cjk(service: Service) {
    let french = conversation(&service, "fr", 1_000, &["Un CAFÉ crème, s'il vous plaît"]).await;
    let japanese = conversation(&service, "ja", 2_000, &["東京都の天気は晴れです"]).await;
    let chinese = conversation(&service, "zh", 3_000, &["我们使用数据库迁移工具"]).await;

    assert_eq!(
        hit_ids(&search(&service, &everywhere("cafe")).await),
        vec![french.id]
    );
    assert_eq!(
        hit_ids(&search(&service, &everywhere("Crème")).await),
        vec![french.id]
    );
    assert_eq!(
        hit_ids(&search(&service, &everywhere("天気")).await),
        vec![japanese.id]
    );
    assert_eq!(
        hit_ids(&search(&service, &everywhere("迁移")).await),
        vec![chinese.id]
    );
    assert!(search(&service, &everywhere("迁天")).await.is_empty());

    let hits = search(&service, &everywhere("天気")).await;
    let snippet = &hits[0].snippets[0];
    assert_eq!(
        snippet.text, "東京都の天気は晴れです",
        "no separators left in a passage"
    );
    assert_eq!(&snippet.text[snippet.highlights[0].clone()], "天気");
}

/// Only user and assistant text is searched: notes and system context are Cairn's words.
pub async fn search_finds_messages_not_notes(service: Service) {
    let session = session("notes", None, 1_000);
    let events = chain(
        &session,
        None,
        1_000,
        vec![
            note("zeppelin in a note"),
            EventKind::SystemContext {
                text: "zeppelin in the context".into(),
            },
            user("an ordinary question"),
        ],
    );
    store(&service, &session, &events).await;
    assert!(search(&service, &everywhere("zeppelin")).await.is_empty());
    assert_eq!(search(&service, &everywhere("ordinary")).await.len(), 1);
}

/// Messages as big and as strange as models write them (a megabyte of distinct words, an
/// unbroken base64 blob, one word said a hundred thousand times) are stored and found: no
/// index limit turns an append into an error.
pub async fn search_indexes_huge_and_unbroken_messages(service: Service) {
    let distinct: String = (0..120_000).map(|n| format!("w{n} ")).collect();
    let blob = "QUJD".repeat(50_000);
    let repeated = "again ".repeat(100_000);
    let text = format!("needle first {distinct}{blob} {repeated} haystack last");
    let big = conversation(&service, "big", 1_000, &[&text, "short answer"]).await;

    let hits = search(&service, &everywhere("needle first")).await;
    assert_eq!(hit_ids(&hits), vec![big.id]);
    assert!(
        hits[0].snippets[0].text.starts_with("needle first"),
        "{:?}",
        hits[0].snippets
    );
    assert_eq!(
        hit_ids(&search(&service, &everywhere("w119")).await),
        vec![big.id]
    );
    assert_eq!(
        hit_ids(&search(&service, &everywhere("again")).await),
        vec![big.id]
    );
    let loaded = service.load_session(big.id).await.expect("load");
    assert_eq!(loaded.events.len(), 2);
}

/// Appended messages are found at once; archived sessions only when asked for; a deleted
/// session never; the workspace filter keeps to one workspace; the limit holds.
pub async fn search_sees_what_is_stored_and_filters(service: Service) {
    let here = conversation(&service, "here", 1_000, &["first question"]).await;
    let elsewhere = conversation(&service, "elsewhere", 2_000, &["kestrel elsewhere"]).await;
    let gone = conversation(&service, "here", 3_000, &["kestrel to be deleted"]).await;

    let answer = chain(
        &here,
        here.head_id,
        4_000,
        vec![assistant("a kestrel hovers")],
    );
    service
        .append_events(here.id, here.head_id, &answer)
        .await
        .expect("append");
    service.delete_session(gone.id).await.expect("delete");
    let all = search(&service, &everywhere("kestrel")).await;
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(!hit_ids(&all).contains(&gone.id));

    let this_workspace = SearchRequest {
        workspace: Some(WorkspaceFilter {
            directory: dir("here"),
            git_root: None,
            repository: None,
        }),
        ..everywhere("kestrel")
    };
    assert_eq!(
        hit_ids(&search(&service, &this_workspace).await),
        vec![here.id]
    );

    service
        .set_archived(elsewhere.id, Some(5_000))
        .await
        .expect("archive");
    assert_eq!(
        hit_ids(&search(&service, &everywhere("kestrel")).await),
        vec![here.id]
    );
    let with_archived = SearchRequest {
        include_archived: true,
        ..everywhere("kestrel")
    };
    assert_eq!(search(&service, &with_archived).await.len(), 2);
    let one = SearchRequest {
        limit: 1,
        ..with_archived
    };
    assert_eq!(search(&service, &one).await.len(), 1);
}

/// Filters hold however many better matches they leave out: a session found only far down
/// the ranking (below many matches in archived sessions and other workspaces) is still found.
pub async fn search_filters_hold_below_many_better_matches(service: Service) {
    // Short messages rank higher for the same word: these bury the one that counts.
    for n in 0..30 {
        let noisy = conversation(&service, "elsewhere", 1_000 + n, &["osprey osprey"]).await;
        if n % 2 == 0 {
            service
                .set_archived(noisy.id, Some(5_000))
                .await
                .expect("archive");
        }
    }
    let wanted = conversation(
        &service,
        "here",
        2_000,
        &["a long message that mentions the osprey only once among many other words"],
    )
    .await;
    let request = SearchRequest {
        workspace: Some(WorkspaceFilter {
            directory: dir("here"),
            git_root: None,
            repository: None,
        }),
        limit: 1,
        ..everywhere("osprey")
    };
    assert_eq!(hit_ids(&search(&service, &request).await), vec![wanted.id]);
    let everywhere_but_archived = SearchRequest {
        limit: 100,
        ..everywhere("osprey")
    };
    assert_eq!(search(&service, &everywhere_but_archived).await.len(), 16);
}
