//! A summary on the branch: the request holds exactly the system prompt, the summary and the
//! turns after it, keeps the strict shape, and falls back to the budget when that is too long.
use super::super::tests::{assistant, call, events, long, result, user, workspace};
use super::super::{build_request, check_strict_shape, estimate_history_tokens};
use super::*;
use pretty_assertions::assert_eq;

fn summary(through: &Event, text: &str) -> EventKind {
    EventKind::Summary {
        text: text.into(),
        through: through.id,
        messages: 4,
        continued_from: None,
    }
}

/// `kinds`, with a summary of everything before it inserted at `at`.
fn with_summary_at(kinds: Vec<EventKind>, at: usize, text: &str) -> Vec<Event> {
    let mut before = events(kinds[..at].to_vec());
    let mut tail = vec![summary(before.last().unwrap(), text)];
    tail.extend(kinds[at..].iter().cloned());
    // Chain the rest after the first part, as one branch.
    let mut parent = before.last().map(|event| event.id);
    for mut event in events(tail) {
        event.parent_id = parent;
        parent = Some(event.id);
        before.push(event);
    }
    before
}

fn context(text: &str) -> Part {
    Part::Context {
        text: format!("{SUMMARY_HEADING}\n\n{text}"),
    }
}

#[test]
fn the_request_holds_the_system_prompt_the_summary_and_the_later_turns_only() {
    let events = with_summary_at(
        vec![
            user("first question"),
            assistant("first answer"),
            user("second question"),
            assistant("second answer"),
            user("after the summary"),
            assistant("its answer"),
            user("latest"),
        ],
        4,
        "- The user asked two questions.",
    );
    let request = build_request(&events, &workspace(), "m", None, 100_000, "d");
    assert_eq!(
        request.messages,
        vec![
            Message {
                role: Role::User,
                parts: vec![
                    context("- The user asked two questions."),
                    Part::Text {
                        text: "after the summary".into()
                    },
                ],
            },
            Message::text(Role::Assistant, "its answer"),
            Message::text(Role::User, "latest"),
        ]
    );
    assert!(!request.system.contains("omitted"), "{}", request.system);
    assert_eq!(check_strict_shape(&request), Ok(()));
}

#[test]
fn the_newest_summary_wins_and_an_older_one_is_never_sent() {
    let first = with_summary_at(
        vec![user("q1"), assistant("a1"), user("q2"), assistant("a2")],
        2,
        "old summary",
    );
    // Rebuild as one chain so the ids the summaries name are on it.
    let mut events = first;
    let newest = summary(events.last().unwrap(), "new summary");
    for kind in [newest, user("q3")] {
        let mut event = super::super::tests::events(vec![kind]).remove(0);
        event.parent_id = events.last().map(|event| event.id);
        events.push(event);
    }
    let request = build_request(&events, &workspace(), "m", None, 100_000, "d");
    assert_eq!(
        request.messages,
        vec![Message {
            role: Role::User,
            parts: vec![context("new summary"), Part::Text { text: "q3".into() }],
        }]
    );
}

#[test]
fn a_summary_followed_by_tool_turns_keeps_the_strict_shape() {
    let events = with_summary_at(
        vec![
            user("q1"),
            assistant("a1"),
            user("run it"),
            call("c1"),
            result("c1"),
            assistant("done"),
            user("latest"),
        ],
        2,
        "s",
    );
    let request = build_request(&events, &workspace(), "m", None, 100_000, "d");
    assert_eq!(check_strict_shape(&request), Ok(()));
    assert_eq!(request.messages.len(), 5, "{:#?}", request.messages);
    assert_eq!(request.messages[0].parts[0], context("s"));
}

#[test]
fn a_summary_and_tail_too_long_fall_back_to_the_budget() {
    let mut kinds = Vec::new();
    for turn in 0..10 {
        kinds.push(user(&long(&format!("q{turn}"))));
        kinds.push(assistant(&long(&format!("a{turn}"))));
    }
    kinds.push(user("latest"));
    // The summary covers the first two turns; eight long turns still follow it.
    let events = with_summary_at(kinds, 4, "the first two turns");
    let request = build_request(&events, &workspace(), "m", Some(1000), 1000 + 700, "d");
    assert_eq!(check_strict_shape(&request), Ok(()));
    // The summary is the head the budget keeps, the newest turns follow, the rest is omitted.
    assert_eq!(request.messages[0].parts[0], context("the first two turns"));
    assert!(
        request.system.contains("earlier messages were omitted"),
        "{}",
        request.system
    );
    let last = request.messages.last().unwrap();
    assert_eq!(
        last.parts,
        vec![Part::Text {
            text: "latest".into()
        }]
    );

    // A summary that cannot sit beside the latest question is dropped like a first exchange.
    let huge = "s".repeat(8_000);
    let events = with_summary_at(vec![user("q"), assistant("a"), user("latest")], 2, &huge);
    let request = build_request(&events, &workspace(), "m", Some(100), 1_000, "d");
    assert_eq!(request.messages, vec![Message::text(Role::User, "latest")]);
    assert_eq!(check_strict_shape(&request), Ok(()));
}

#[test]
fn a_summary_naming_an_event_off_the_branch_is_ignored() {
    let mut events = events(vec![user("q1"), assistant("a1"), user("q2")]);
    let stray = super::super::tests::events(vec![user("elsewhere")]).remove(0);
    let mut lost = super::super::tests::events(vec![summary(&stray, "lost")]).remove(0);
    lost.parent_id = Some(events[1].id);
    events.insert(2, lost);
    let request = build_request(&events, &workspace(), "m", None, 100_000, "d");
    assert_eq!(
        request.messages,
        vec![
            Message::text(Role::User, "q1"),
            Message::text(Role::Assistant, "a1"),
            Message::text(Role::User, "q2"),
        ]
    );
}

#[test]
fn the_history_estimate_counts_the_summary_not_what_it_stands_for() {
    let kinds = vec![
        user(&long("q0")),
        assistant(&long("a0")),
        user(&long("q1")),
        assistant(&long("a1")),
        user("latest"),
    ];
    let whole = estimate_history_tokens(&events(kinds.clone()));
    let summarised = estimate_history_tokens(&with_summary_at(kinds, 4, "short"));
    assert!(whole > 400, "{whole}");
    assert!(summarised < 60, "{summarised}");
}

#[test]
fn a_session_continuing_another_sends_its_summary_then_the_new_question() {
    let elsewhere = super::super::tests::events(vec![user("old question")]).remove(0);
    let events = events(vec![
        EventKind::Summary {
            text: "- The user asked an old question.".into(),
            // The other session's last event: not on this branch.
            through: elsewhere.id,
            messages: 2,
            continued_from: Some(crate::event::Continuation {
                session_id: elsewhere.session_id,
                title: "Old work".into(),
            }),
        },
        user("new question"),
    ]);
    let request = build_request(&events, &workspace(), "m", None, 100_000, "d");
    assert_eq!(
        request.messages,
        vec![Message {
            role: Role::User,
            parts: vec![
                context("- The user asked an old question."),
                Part::Text {
                    text: "new question".into()
                },
            ],
        }]
    );
    assert_eq!(check_strict_shape(&request), Ok(()));
}
