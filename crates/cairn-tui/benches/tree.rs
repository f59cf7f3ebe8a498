//! The conversation tree on a long, much-branched session: a real SQLite file holding
//! 10,000 events with 200 branches (an answer regenerated every 49 events).
//! - `/tree` to first frame (budget 50 ms): read every event, build the tree, fill the
//!   overlay and draw it at 120x40;
//! - switching branch (budget 30 ms), from Enter on a row of `/tree` to the frame: the
//!   manager moves the head (one compare-and-swap from the tree `/tree` read) and takes the
//!   new branch from it, the screen takes the branch and draws a frame.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cairn_core::tree::ConversationTree;
use cairn_core::{
    Event, EventId, EventKind, InvocationId, ManualClock, ProviderInfo, ResumePolicy, Session,
    SessionId, SessionManager, SessionService, Workspace,
};
use cairn_store::SqliteSessionService;
use cairn_tui::{App, AppEvent, AppInit, Origin, SessionView};
use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const NOW_MS: i64 = 1_800_000_000_000;
const EVENTS: usize = 10_000;
const BRANCHES: usize = 200;

fn event(session: SessionId, parent: Option<EventId>, at: usize, kind: EventKind) -> Event {
    Event {
        id: EventId::new(),
        session_id: session,
        parent_id: parent,
        invocation_id: InvocationId::new(),
        created_at_ms: NOW_MS - 1_000_000 + at as i64,
        kind,
    }
}

fn answer(text: String) -> EventKind {
    EventKind::AssistantMessage {
        text,
        usage: None,
        interrupted: false,
        model: None,
    }
}

/// Stores the session; returns it with the leaves of two branches to switch between.
async fn stored_session(service: &dyn SessionService) -> (Session, EventId, EventId) {
    let session = Session {
        id: SessionId::new(),
        directory: PathBuf::from("/tmp/bench-tree"),
        git_root: None,
        head_id: None,
        title: "bench".into(),
        created_at_ms: NOW_MS - 1_000_000,
        updated_at_ms: NOW_MS,
        archived_at_ms: None,
        model: None,
        location: cairn_core::Location::default(),
    };
    let mut main = Vec::with_capacity(EVENTS - BRANCHES + 1);
    let mut parent = None;
    for at in 0..EVENTS - BRANCHES {
        let kind = if at % 2 == 0 {
            EventKind::UserMessage {
                text: format!("Question {at}: how do I make this faster?"),
            }
        } else {
            answer(format!("Answer {at}: measure first."))
        };
        let next = event(session.id, parent, at, kind);
        parent = Some(next.id);
        main.push(next);
    }
    let main_leaf = main[main.len() - 1].id;
    let row = Session {
        head_id: Some(main_leaf),
        ..session.clone()
    };
    service.create_session(&row, &main).await.unwrap();
    let mut head = main_leaf;
    let mut branch_leaf = head;
    for branch in 0..BRANCHES {
        // A regenerated answer to a user message spread along the conversation.
        let question = &main[(branch * 49) & !1];
        let retry = event(
            session.id,
            Some(question.id),
            EVENTS + branch,
            answer(format!("Another answer {branch}")),
        );
        service
            .append_events(session.id, Some(head), std::slice::from_ref(&retry))
            .await
            .unwrap();
        head = retry.id;
        branch_leaf = retry.id;
    }
    (row, main_leaf, branch_leaf)
}

fn app(events: Vec<Event>, session: &Session) -> App {
    App::new(AppInit {
        session: SessionView {
            id: session.id,
            title: session.title.clone(),
            directory: session.directory.clone(),
            display_directory: "/tmp/bench-tree".into(),
            stored: true,
            model: None,
            short_id: session.id.short(),
            branches: BRANCHES + 1,
        },
        origin: Origin::Resumed,
        provider: ProviderInfo {
            kind: "echo".into(),
            model: "echo".into(),
            offline: true,
        },
        model: "echo".into(),
        events,
        notes: Vec::new(),
        history: Vec::new(),
        now_ms: NOW_MS,
        size: (120, 40),
        loading_rest: false,
        store: None,
        title_model: None,
        tools: None,
    })
}

fn key(code: KeyCode) -> AppEvent {
    AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn draw(terminal: &mut Terminal<TestBackend>, app: &App) {
    terminal
        .draw(|frame| frame.render_widget(app, frame.area()))
        .unwrap();
}

fn benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let service: Arc<dyn SessionService> = Arc::new(
        runtime
            .block_on(SqliteSessionService::open(&dir.path().join("sessions.db")))
            .unwrap(),
    );
    let (session, main_leaf, branch_leaf) = runtime.block_on(stored_session(service.as_ref()));
    let mut manager = SessionManager::new(
        service.clone(),
        Arc::new(ManualClock::new(NOW_MS)),
        Workspace {
            directory: session.directory.clone(),
            git_root: None,
            git_branch: None,
            repository: None,
            host: "here".to_owned(),
        },
        ResumePolicy {
            continue_minutes: 60,
        },
    );
    runtime.block_on(manager.resume(session.id)).unwrap();
    let mut screen = app(manager.events().cloned().collect(), &session);
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    draw(&mut terminal, &screen);

    let mut group = c.benchmark_group("tree");
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(5));
    group.bench_function(
        "open /tree on 10,000 events, 200 branches, to first frame",
        |b| {
            b.iter(|| {
                for c in "/tree".chars() {
                    screen.handle(key(KeyCode::Char(c)));
                }
                screen.handle(key(KeyCode::Enter));
                let all = runtime
                    .block_on(service.load_all_events(session.id))
                    .unwrap();
                let tree = ConversationTree::build(&all.events, all.session.head_id);
                assert_eq!(tree.branch_count, BRANCHES + 1);
                screen.handle(AppEvent::TreeLoaded(Ok(tree)));
                draw(&mut terminal, &screen);
                screen.handle(key(KeyCode::Esc));
            });
        },
    );
    let mut targets = [main_leaf, branch_leaf].into_iter().cycle();
    group.bench_function(
        "switch branch on 10,000 events, load and first frame",
        |b| {
            b.iter_custom(|iterations| {
                let mut waited = Duration::ZERO;
                for _ in 0..iterations {
                    // Read when `/tree` opened (measured above), before Enter is pressed.
                    let seen = runtime.block_on(manager.seen_tree()).unwrap().unwrap();
                    let target = targets.next().unwrap();
                    let started = Instant::now();
                    runtime
                        .block_on(manager.switch_branch_seen(Some(seen), target))
                        .unwrap();
                    screen.handle(AppEvent::SessionLoaded {
                        view: screen_view(&session),
                        events: manager.events().cloned().collect(),
                        notes: Vec::new(),
                    });
                    draw(&mut terminal, &screen);
                    waited += started.elapsed();
                }
                waited
            });
        },
    );
    group.finish();
}

fn screen_view(session: &Session) -> SessionView {
    SessionView {
        id: session.id,
        title: session.title.clone(),
        directory: session.directory.clone(),
        display_directory: "/tmp/bench-tree".into(),
        stored: true,
        model: None,
        short_id: session.id.short(),
        branches: BRANCHES + 1,
    }
}

criterion_group!(tree, benches);
criterion_main!(tree);
