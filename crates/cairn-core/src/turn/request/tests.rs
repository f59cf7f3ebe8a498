//! The request builder's invariants, one by one, and against thousands of histories.
use super::*;
use crate::ids::{EventId, InvocationId, SessionId};
use pretty_assertions::assert_eq;
use std::path::PathBuf;

pub(super) fn events(kinds: Vec<EventKind>) -> Vec<Event> {
    let session_id = SessionId::new();
    let invocation_id = InvocationId::new();
    let mut parent = None;
    kinds
        .into_iter()
        .enumerate()
        .map(|(index, kind)| {
            let id = EventId::new();
            let event = Event {
                id,
                session_id,
                parent_id: parent,
                invocation_id,
                created_at_ms: index as i64,
                kind,
            };
            parent = Some(id);
            event
        })
        .collect()
}

pub(super) fn workspace() -> Workspace {
    Workspace {
        directory: PathBuf::from("/home/ada/src/engine/src"),
        git_root: Some(PathBuf::from("/home/ada/src/engine")),
        git_branch: Some("main".into()),
        repository: None,
        host: "here".to_owned(),
    }
}

pub(super) fn user(text: &str) -> EventKind {
    EventKind::UserMessage { text: text.into() }
}

pub(super) fn assistant(text: &str) -> EventKind {
    EventKind::AssistantMessage {
        text: text.into(),
        usage: None,
        interrupted: false,
        model: None,
    }
}

#[test]
fn system_prompt_names_cairn_and_the_workspace() {
    let request = build_request(&[], &workspace(), "m", None, 100_000, "2025-06-01");
    let os = std::env::consts::OS;
    assert_eq!(
        request.system,
        format!(
            "You are Cairn, an assistant in the user's terminal. Answer concisely; use \
             Markdown with fenced code blocks for code. The user is working in the \
             directory below.\n\nDirectory: /home/ada/src/engine/src\nGit repository \
             root: /home/ada/src/engine\nGit branch: main\nOperating system: {os}\n\
             Today's date: 2025-06-01\n"
        )
    );
    assert_eq!(request.model, "m");
    assert_eq!(request.messages, vec![]);
}

#[test]
fn notes_and_errors_are_not_sent_and_the_boundary_joins_the_next_question() {
    let events = events(vec![
        user("first"),
        assistant("answer"),
        EventKind::Note {
            text: "resumed".into(),
        },
        EventKind::SystemContext {
            text: "The user came back after 3 hours.".into(),
        },
        EventKind::Error {
            message: "boom".into(),
        },
        user("second"),
        EventKind::AssistantMessage {
            text: "partial ans".into(),
            usage: None,
            interrupted: true,
            model: None,
        },
        EventKind::AssistantMessage {
            text: String::new(),
            usage: None,
            interrupted: true,
            model: None,
        },
    ]);
    let request = build_request(&events, &workspace(), "m", Some(1000), 100_000, "d");
    assert_eq!(
        request.messages,
        vec![
            Message::text(Role::User, "first"),
            Message::text(Role::Assistant, "answer"),
            Message {
                role: Role::User,
                parts: vec![
                    Part::Context {
                        text: "The user came back after 3 hours.".into()
                    },
                    Part::Text {
                        text: "second".into()
                    },
                ],
            },
            Message::text(Role::Assistant, "partial ans"),
        ]
    );
    assert_eq!(request.max_output_tokens, Some(1000));
    assert_eq!(check_strict_shape(&request), Ok(()));
}

#[test]
fn tool_calls_join_the_assistant_message_and_results_follow() {
    let events = events(vec![
        user("list files"),
        assistant("Let me look."),
        EventKind::ToolCall {
            call_id: "c1".into(),
            name: "ls".into(),
            arguments: "{}".into(),
        },
        EventKind::ToolCall {
            call_id: "c2".into(),
            name: "pwd".into(),
            arguments: "{}".into(),
        },
        EventKind::ToolResult {
            call_id: "c1".into(),
            output: "a.rs".into(),
            is_error: false,
        },
        EventKind::ToolResult {
            call_id: "c2".into(),
            output: "/x".into(),
            is_error: true,
        },
        assistant("One file."),
    ]);
    let request = build_request(&events, &workspace(), "m", None, 100_000, "d");
    assert_eq!(
        request.messages,
        vec![
            Message::text(Role::User, "list files"),
            Message {
                role: Role::Assistant,
                parts: vec![
                    Part::Text {
                        text: "Let me look.".into()
                    },
                    Part::ToolCall {
                        call_id: "c1".into(),
                        name: "ls".into(),
                        arguments: "{}".into()
                    },
                    Part::ToolCall {
                        call_id: "c2".into(),
                        name: "pwd".into(),
                        arguments: "{}".into()
                    },
                ],
            },
            Message {
                role: Role::User,
                parts: vec![
                    Part::ToolResult {
                        call_id: "c1".into(),
                        output: "a.rs".into(),
                        is_error: false
                    },
                    Part::ToolResult {
                        call_id: "c2".into(),
                        output: "/x".into(),
                        is_error: true
                    },
                ],
            },
            Message::text(Role::Assistant, "One file."),
        ]
    );
}

/// 400 characters: 100 tokens of text, 104 with the message overhead.
pub(super) fn long(tag: &str) -> String {
    format!("{tag}{}", "x".repeat(400 - tag.len()))
}

#[test]
fn over_budget_keeps_first_exchange_recent_messages_and_one_notice() {
    let mut kinds = Vec::new();
    for turn in 0..10 {
        kinds.push(user(&long(&format!("q{turn}"))));
        kinds.push(assistant(&long(&format!("a{turn}"))));
    }
    kinds.push(user("latest"));
    let events = events(kinds);
    let system_tokens = estimate_text_tokens(&system_prompt(&workspace(), "d"));
    // Room for the first exchange (2 x 104), the notice (~25) and four more messages
    // (4 x 104) plus the short latest one.
    let window = system_tokens + 1000 + 2 * 104 + 25 + 4 * 104 + 10 + 20;
    let request = build_request(&events, &workspace(), "m", Some(1000), window, "d");
    let texts: Vec<String> = request
        .messages
        .iter()
        .map(|message| match &message.parts[..] {
            [Part::Text { text }] => {
                format!("{:?}:{}", message.role, &text[..text.len().min(2)])
            }
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        texts,
        vec![
            "User:q0",
            "Assistant:a0",
            "User:q8",
            "Assistant:a8",
            "User:q9",
            "Assistant:a9",
            "User:la",
        ]
    );
    assert!(
        request.system.ends_with(
            "\n[Cairn: 14 earlier messages were omitted to fit the model's context window]\n"
        ),
        "{}",
        request.system
    );
    assert_eq!(check_strict_shape(&request), Ok(()));
}

#[test]
fn budgeting_never_splits_a_tool_call_from_its_result() {
    let call = |id: &str| EventKind::ToolCall {
        call_id: id.into(),
        name: "read".into(),
        arguments: long("{"),
    };
    let result = |id: &str| EventKind::ToolResult {
        call_id: id.into(),
        output: long("r"),
        is_error: false,
    };
    let events = events(vec![
        user("first"),
        assistant("ok"),
        user(&long("q1")),
        call("c1"),
        result("c1"),
        call("c2"),
        result("c2"),
        assistant("done"),
        user("latest"),
    ]);
    let system_tokens = estimate_text_tokens(&system_prompt(&workspace(), "d"));
    // Fits the first exchange, the notice, "done", "latest" and one tool message but not
    // the call + result pair (~2 x 108): the pair must go as a whole.
    let window = system_tokens + 100 + 20 + 30 + 10 + 10 + 150;
    let request = build_request(&events, &workspace(), "m", Some(100), window, "d");
    assert_eq!(
        request.messages,
        vec![
            Message::text(Role::User, "first"),
            Message::text(Role::Assistant, "ok"),
            Message::text(Role::User, "latest"),
        ]
    );
    // The answer "done" went with its question: an answer is never sent without it.
    assert!(
        request
            .system
            .contains("[Cairn: 6 earlier messages were omitted")
    );
    assert_eq!(check_strict_shape(&request), Ok(()));
}

#[test]
fn a_huge_first_exchange_is_dropped_before_the_latest_question() {
    let events = events(vec![
        user(&long("q0").repeat(10)),
        assistant("a0"),
        user("q1"),
        assistant("a1"),
        user("latest"),
    ]);
    let request = build_request(&events, &workspace(), "m", Some(10), 400, "d");
    assert_eq!(
        request.messages,
        vec![
            Message::text(Role::User, "q1"),
            Message::text(Role::Assistant, "a1"),
            Message::text(Role::User, "latest"),
        ]
    );
    assert!(
        request
            .system
            .contains("[Cairn: 2 earlier messages were omitted")
    );
    assert_eq!(check_strict_shape(&request), Ok(()));
}

pub(super) fn call(id: &str) -> EventKind {
    EventKind::ToolCall {
        call_id: id.into(),
        name: "ls".into(),
        arguments: "{}".into(),
    }
}

pub(super) fn result(id: &str) -> EventKind {
    EventKind::ToolResult {
        call_id: id.into(),
        output: "a.rs".into(),
        is_error: false,
    }
}

#[test]
fn a_failed_turn_leaves_no_two_user_turns_in_a_row() {
    let events = events(vec![
        user("first"),
        EventKind::Error {
            message: "HTTP 500".into(),
        },
        user("again"),
    ]);
    let request = build_request(&events, &workspace(), "m", None, 100_000, "d");
    assert_eq!(
        request.messages,
        vec![Message {
            role: Role::User,
            parts: vec![
                Part::Text {
                    text: "first".into()
                },
                Part::Text {
                    text: "again".into()
                },
            ],
        }]
    );
    assert_eq!(check_strict_shape(&request), Ok(()));
}

#[test]
fn a_call_left_without_result_gets_one_saying_it_was_not_run() {
    let events = events(vec![
        user("list"),
        assistant("Looking."),
        call("c1"),
        result("nobody-called-me"),
        user("well?"),
    ]);
    let request = build_request(&events, &workspace(), "m", None, 100_000, "d");
    assert_eq!(
        request.messages,
        vec![
            Message::text(Role::User, "list"),
            Message {
                role: Role::Assistant,
                parts: vec![
                    Part::Text {
                        text: "Looking.".into()
                    },
                    Part::ToolCall {
                        call_id: "c1".into(),
                        name: "ls".into(),
                        arguments: "{}".into()
                    },
                ],
            },
            Message {
                role: Role::User,
                parts: vec![
                    Part::ToolResult {
                        call_id: "c1".into(),
                        output: UNANSWERED_CALL_RESULT.into(),
                        is_error: true
                    },
                    Part::Text {
                        text: "well?".into()
                    },
                ],
            },
        ]
    );
    assert_eq!(check_strict_shape(&request), Ok(()));
}

#[test]
fn the_shape_check_rejects_what_strict_templates_reject() {
    let request = |messages: Vec<Message>| ModelRequest {
        model: "m".into(),
        system: "s".into(),
        messages,
        max_output_tokens: None,
        tools: Vec::new(),
    };
    let calls = |ids: &[&str]| Message {
        role: Role::Assistant,
        parts: ids
            .iter()
            .map(|id| Part::ToolCall {
                call_id: (*id).into(),
                name: "ls".into(),
                arguments: "{}".into(),
            })
            .collect(),
    };
    let results = |ids: &[&str]| Message {
        role: Role::User,
        parts: ids
            .iter()
            .map(|id| Part::ToolResult {
                call_id: (*id).into(),
                output: "x".into(),
                is_error: false,
            })
            .collect(),
    };
    let user = |text: &str| Message::text(Role::User, text);
    let answer = |text: &str| Message::text(Role::Assistant, text);
    let rejected = [
        vec![answer("first")],
        vec![user("a"), user("b")],
        vec![user("a"), answer("b"), Message::text(Role::Assistant, "c")],
        vec![user("a"), answer("")],
        vec![user("a"), calls(&["c1", "c2"]), results(&["c1"])],
        vec![user("a"), calls(&["c1"]), results(&["c2"])],
        vec![user("a"), calls(&["c1"])],
    ];
    for messages in rejected {
        assert!(
            check_strict_shape(&request(messages.clone())).is_err(),
            "accepted {messages:?}"
        );
    }
    let accepted = vec![
        user("a"),
        calls(&["c1", "c2"]),
        results(&["c2", "c1"]),
        answer("done"),
        user("b"),
    ];
    assert_eq!(check_strict_shape(&request(accepted)), Ok(()));
}

/// Any history, however it was cut by crashes, failures and budgets, becomes a request of
/// the strict shape: thousands of pseudo-random event sequences, a fixed seed.
#[test]
fn every_history_builds_a_strict_request() {
    let mut seed: u64 = 0x5eed;
    let mut next = move |bound: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % bound
    };
    for _ in 0..3000 {
        let length = next(14) + 1;
        let mut kinds = Vec::new();
        for step in 0..length {
            let id = format!("c{}", next(3));
            kinds.push(match next(9) {
                0 | 1 => user(&long(&format!("q{step}"))[..(next(398) as usize + 2)]),
                2 | 3 => assistant(&long(&format!("a{step}"))[..(next(400) as usize)]),
                4 => call(&id),
                5 => result(&id),
                6 => EventKind::SystemContext {
                    text: "resumed".into(),
                },
                7 => EventKind::Error {
                    message: "boom".into(),
                },
                _ => EventKind::Note {
                    text: "note".into(),
                },
            });
        }
        kinds.push(user("latest"));
        let events = events(kinds);
        let window = 200 + next(1500);
        let request = build_request(&events, &workspace(), "m", Some(50), window, "d");
        if let Err(violation) = check_strict_shape(&request) {
            panic!(
                "{violation}\nevents: {:#?}\nrequest: {:#?}",
                events, request.messages
            );
        }
        let last = request.messages.last().map(|message| message.role);
        assert_eq!(last, Some(Role::User), "{:#?}", request.messages);
    }
}
