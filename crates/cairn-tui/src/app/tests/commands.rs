//! Slash commands as the screen runs them: /new, /quit, /rename, /export, /copy, /model,
//! /retry, and unknown ones.

use std::path::PathBuf;

use cairn_core::private_file::Overwrite;
use crossterm::event::KeyCode;
use pretty_assertions::assert_eq;

use super::{last_text, texts};
use crate::app::{AppEvent, Effect, Origin, Overlay, SessionJob, UsageTotals};
use crate::test_support::*;
use crate::transcript::CellKind;

#[test]
fn slash_new_archives_and_clears_the_screen() {
    let mut app = app_with(
        (80, 20),
        Origin::Resumed,
        vec![user("old"), assistant("reply")],
        &[],
    );
    type_text(&mut app, "/new");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![
            Effect::SaveHistory("/new".into()),
            Effect::Job(SessionJob::NewSession)
        ]
    );
    let mut fresh = view();
    fresh.id = cairn_core::SessionId(uuid::Uuid::from_u128(42));
    // The session task shortens the id only as far as it stays unambiguous.
    app.handle(AppEvent::SessionReset {
        archived: Some("0193a1b2c3d4".to_owned()),
        view: fresh.clone(),
        carried: Vec::new(),
    });
    assert_eq!(app.origin, Origin::New);
    assert_eq!(app.session, fresh);
    assert_eq!(
        texts(&app),
        vec![(
            CellKind::Note,
            "Started a new session. The previous one was archived; `cairn -s 0193a1b2c3d4` brings it back."
                .to_owned()
        )]
    );
    assert_eq!(app.usage, UsageTotals::default());
}

#[test]
fn slash_quit_and_exit_quit() {
    for command in ["/quit", "/exit"] {
        let mut app = new_app();
        type_text(&mut app, command);
        let effects = app.handle(key(KeyCode::Enter));
        assert_eq!(effects.last(), Some(&Effect::Quit), "{command}");
    }
}

#[test]
fn rename_needs_a_title() {
    let mut app = new_app();
    type_text(&mut app, "/rename Better title");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects.last(),
        Some(&Effect::Job(SessionJob::Rename("Better title".into())))
    );
    app.handle(AppEvent::Renamed {
        title: "Better title".into(),
    });
    assert_eq!(last_text(&app), "Renamed this session to “Better title”.");
    type_text(&mut app, "/rename");
    app.handle(key(KeyCode::Enter));
    assert_eq!(
        texts(&app).last().unwrap(),
        &(CellKind::Error, "usage: /rename <title>".into())
    );
}

#[test]
fn export_writes_to_the_workspace_by_default_and_says_where() {
    let mut app = app_with(
        (80, 20),
        Origin::Resumed,
        vec![user("q"), assistant("a")],
        &[],
    );
    type_text(&mut app, "/export");
    let effects = app.handle(key(KeyCode::Enter));
    let expected = PathBuf::from(format!(
        "/home/dev/projects/demo/cairn-{}.md",
        session_id().short()
    ));
    assert_eq!(
        effects.last(),
        Some(&Effect::Job(SessionJob::Export {
            path: expected.clone(),
            overwrite: Overwrite::Refuse
        }))
    );
    type_text(&mut app, "/export notes/chat.md");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects.last(),
        Some(&Effect::Job(SessionJob::Export {
            path: PathBuf::from("/home/dev/projects/demo/notes/chat.md"),
            overwrite: Overwrite::Refuse
        }))
    );
    type_text(&mut app, "/export! notes/chat.md");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects.last(),
        Some(&Effect::Job(SessionJob::Export {
            path: PathBuf::from("/home/dev/projects/demo/notes/chat.md"),
            overwrite: Overwrite::Replace
        }))
    );
    app.handle(AppEvent::ExportWritten {
        result: Ok(expected.clone()),
    });
    assert_eq!(
        last_text(&app),
        format!("Exported the conversation to {}", expected.display())
    );
}

#[test]
fn export_leaves_a_home_path_to_the_session_task_and_refuses_an_empty_session() {
    let mut app = new_app();
    type_text(&mut app, "/export ~/exp.md");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::SaveHistory("/export ~/exp.md".into())]
    );
    assert_eq!(last_text(&app), "There is nothing to export yet.");

    let mut app = app_with((80, 20), Origin::Resumed, vec![user("q")], &[]);
    type_text(&mut app, "/export ~/exp.md");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects.last(),
        Some(&Effect::Job(SessionJob::Export {
            path: PathBuf::from("~/exp.md"),
            overwrite: Overwrite::Refuse
        }))
    );
}

#[test]
fn commands_are_case_insensitive() {
    let mut app = new_app();
    type_text(&mut app, "/QUIT");
    assert_eq!(app.handle(key(KeyCode::Enter)).last(), Some(&Effect::Quit));
}

#[test]
fn copy_sends_the_last_answer_to_the_clipboard() {
    let mut app = new_app();
    type_text(&mut app, "/copy");
    app.handle(key(KeyCode::Enter));
    assert_eq!(last_text(&app), "There is no answer to copy yet.");
    let mut app = app_with(
        (80, 20),
        Origin::Resumed,
        vec![user("q"), assistant("the answer")],
        &[],
    );
    type_text(&mut app, "/copy");
    let effects = app.handle(key(KeyCode::Enter));
    assert!(effects.contains(&Effect::CopyToClipboard("the answer".into())));
}

#[test]
fn copy_code_takes_a_code_block_without_fences_or_gutters() {
    let mut app = app_with(
        (80, 20),
        Origin::Resumed,
        vec![
            user("q"),
            assistant("First:\n\n```sh\ncargo build\n```\n\nThen:\n\n```sh\ncargo test\n```"),
        ],
        &[],
    );
    let mut copy = |line: &str| {
        type_text(&mut app, line);
        let effects = app.handle(key(KeyCode::Enter));
        (
            effects.into_iter().find_map(|effect| match effect {
                Effect::CopyToClipboard(text) => Some(text),
                _ => None,
            }),
            last_text(&app),
        )
    };
    assert_eq!(
        copy("/copy code"),
        (
            Some("cargo test\n".to_owned()),
            "Copied code block 2 of 2 (11 characters) to the clipboard.".to_owned()
        )
    );
    assert_eq!(copy("/copy code 1").0, Some("cargo build\n".to_owned()));
    assert_eq!(
        copy("/copy code 3"),
        (None, "The last answer has 2 code blocks.".to_owned())
    );
}

#[test]
fn model_shows_or_switches_the_model() {
    let mut app = new_app();
    type_text(&mut app, "/model bigger-model");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects.last(),
        Some(&Effect::Job(SessionJob::SetModel("bigger-model".into()))),
        "kept with the session"
    );
    assert_eq!(app.model, "bigger-model");
    assert_eq!(app.provider_label(), "echo/bigger-model (offline)");
    type_text(&mut app, "hi");
    let effects = app.handle(key(KeyCode::Enter));
    assert!(matches!(
        effects.last(),
        Some(Effect::Job(SessionJob::SendUserMessage { model, .. })) if model == "bigger-model"
    ));
}

#[test]
fn model_alone_picks_from_the_providers_list() {
    let mut app = new_app();
    type_text(&mut app, "/model");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(effects.last(), Some(&Effect::ListModels));
    app.handle(AppEvent::ModelsListed(Ok(vec![
        "alpha".into(),
        "echo".into(),
        "zeta".into(),
    ])));
    let Overlay::Models(picker) = &app.overlay else {
        panic!("the model picker is open");
    };
    assert_eq!(picker.selected, 1, "the model in use is highlighted");
    app.handle(key(KeyCode::Down));
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::Job(SessionJob::SetModel("zeta".into()))]
    );
    assert_eq!(app.model, "zeta");
    assert!(matches!(app.overlay, Overlay::None));

    // A provider that cannot list: the picker says why, Esc closes it, nothing changes.
    type_text(&mut app, "/model");
    app.handle(key(KeyCode::Enter));
    app.handle(AppEvent::ModelsListed(Err("connection refused".into())));
    assert!(app.handle(key(KeyCode::Enter)).is_empty());
    assert!(matches!(app.overlay, Overlay::None));
    assert_eq!(app.model, "zeta");
}

#[test]
fn a_session_brings_its_own_model_and_one_without_uses_the_default() {
    let mut app = new_app();
    let mut picked = crate::test_support::view();
    picked.model = Some("picked-model".into());
    app.handle(AppEvent::SessionLoaded {
        view: picked,
        events: Vec::new(),
        notes: Vec::new(),
    });
    assert_eq!(app.model, "picked-model");
    assert_eq!(
        last_text(&app),
        "Using picked-model, the model chosen for this session."
    );
    app.handle(AppEvent::SessionReset {
        archived: None,
        view: crate::test_support::view(),
        carried: Vec::new(),
    });
    assert_eq!(app.model, "echo");
}

#[test]
fn retry_drops_the_last_answer_and_asks_again() {
    let mut app = app_with(
        (80, 20),
        Origin::Resumed,
        vec![user("q1"), assistant("a1"), user("q2"), assistant("a2")],
        &[],
    );
    type_text(&mut app, "/retry");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects.last(),
        Some(&Effect::Job(SessionJob::Retry {
            turn: 1,
            model: "echo".into()
        }))
    );
    assert_eq!(last_text(&app), "q2");
    assert!(app.is_busy());
}

#[test]
fn unknown_commands_say_so_and_double_slash_sends_a_slash() {
    let mut app = new_app();
    type_text(&mut app, "/nope");
    assert!(app.handle(key(KeyCode::Enter)).is_empty());
    assert!(last_text(&app).starts_with("unknown command /nope"));
    type_text(&mut app, "//nope");
    let effects = app.handle(key(KeyCode::Enter));
    assert!(matches!(
        effects.last(),
        Some(Effect::Job(SessionJob::SendUserMessage { text, .. })) if text == "/nope"
    ));
}
