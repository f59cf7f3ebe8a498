//! What a summary covers, what the model is asked, what is kept of its reply.
use super::*;
use crate::ids::{InvocationId, SessionId};
use crate::provider::Part;
use pretty_assertions::assert_eq;

fn branch(kinds: Vec<EventKind>) -> Vec<Event> {
    let session_id = SessionId::new();
    let invocation_id = InvocationId::new();
    let mut parent = None;
    kinds
        .into_iter()
        .map(|kind| {
            let event = Event {
                id: EventId::new(),
                session_id,
                parent_id: parent,
                invocation_id,
                created_at_ms: 0,
                kind,
            };
            parent = Some(event.id);
            event
        })
        .collect()
}

fn user(text: &str) -> EventKind {
    EventKind::UserMessage { text: text.into() }
}

fn answer(text: &str) -> EventKind {
    EventKind::AssistantMessage {
        text: text.into(),
        usage: None,
        interrupted: false,
        model: None,
    }
}

#[test]
fn a_summary_covers_every_answered_turn_and_leaves_a_waiting_question_out() {
    let events = branch(vec![
        user("how do I build"),
        answer("cargo build"),
        user("and test?"),
        answer("cargo test"),
        user("still waiting"),
        EventKind::Error {
            message: "boom".into(),
        },
    ]);
    let input = summary_input(&events).unwrap();
    assert_eq!(input.through, events[3].id);
    assert_eq!(input.messages, 4);
    assert_eq!(
        input.conversation,
        "[User]\nhow do I build\n\n[Assistant]\ncargo build\n\n[User]\nand test?\n\n\
         [Assistant]\ncargo test\n\n"
    );
    assert_eq!(
        local_summary(&input),
        "Offline summary (no model wrote it): the earlier messages are condensed to the \
         user's questions.\n- Asked: how do I build\n- Asked: and test?\n"
    );
}

#[test]
fn nothing_new_since_the_last_summary_means_nothing_to_summarise() {
    assert_eq!(summary_input(&[]), None);
    assert_eq!(summary_input(&branch(vec![user("only a question")])), None);
    let mut events = branch(vec![user("q"), answer("a")]);
    let input = summary_input(&events).unwrap();
    let mut summary = branch(vec![summary_event(&input, "s".into())]).remove(0);
    summary.parent_id = Some(events[1].id);
    events.push(summary);
    assert_eq!(summary_input(&events), None);

    // A later turn is summarised together with the earlier summary.
    let mut later = branch(vec![user("q2"), answer("a2")]);
    later[0].parent_id = Some(events[2].id);
    events.extend(later);
    let input = summary_input(&events).unwrap();
    assert_eq!(input.messages, 4);
    assert_eq!(
        input.conversation,
        "[Summary of the conversation before this point]\ns\n\n[User]\nq2\n\n[Assistant]\na2\n\n"
    );
}

#[test]
fn the_request_has_the_strict_shape_the_instructions_and_fits_the_window() {
    let long = "x".repeat(50_000);
    let mut kinds = vec![user("how it began"), answer("first")];
    for _ in 0..20 {
        // Each quoted to its first 2,000 characters.
        kinds.extend([user(&long), answer(&long)]);
    }
    let events = branch(kinds);
    let input = summary_input(&events).unwrap();
    let request = summary_request(&input, Some("  keep the SQL "), "m", 4_000);
    assert_eq!(crate::turn::check_strict_shape(&request), Ok(()));
    assert!(request.tools.is_empty());
    let [Part::Text { text }] = &request.messages[0].parts[..] else {
        panic!("one text part");
    };
    assert!(text.ends_with("Summarise the conversation above. The user adds: keep the SQL"));
    assert!(text.contains("[…the start is cut…]"), "{}", &text[..100]);
    assert!(!text.contains("how it began"));
    assert!(text.chars().count() < 4 * 4_000);
}

#[test]
fn replies_are_cleaned_of_thinking_and_controls() {
    assert_eq!(
        clean_summary("<think>hm</think>\n- Asked \x1b[2Jabout X\n").as_deref(),
        Some("- Asked ␛[2Jabout X")
    );
    assert_eq!(clean_summary("  \n "), None);
    let huge = clean_summary(&"y".repeat(100_000)).unwrap();
    assert!(huge.len() <= MAX_SUMMARY_BYTES + '…'.len_utf8());
}

#[test]
fn compaction_is_due_past_the_share_of_the_window_and_never_when_off() {
    // Four messages of about 100 tokens each.
    let events = branch(vec![
        user(&"q".repeat(400)),
        answer(&"a".repeat(400)),
        user(&"q".repeat(400)),
        answer(&"a".repeat(400)),
    ]);
    assert!(compaction_due(&events, 500, 0.8));
    assert!(!compaction_due(&events, 1_000, 0.8));
    assert!(!compaction_due(&events, 500, 0.0));
}

#[test]
fn the_resume_note_says_when_a_summary_is_present() {
    let plain = branch(vec![user("q"), answer("a")]);
    assert!(!resume_boundary_text("3 hours ago", &plain).contains("summary"));
    let mut summarised = plain.clone();
    let input = summary_input(&plain).unwrap();
    summarised.extend(branch(vec![summary_event(&input, "s".into())]));
    let text = resume_boundary_text("3 hours ago", &summarised);
    assert!(text.contains("ended 3 hours ago"), "{text}");
    assert!(text.contains("given as a summary"), "{text}");
}

#[test]
fn a_carried_summary_counts_as_the_previous_one_and_its_line_is_neutralised() {
    let from = Continuation {
        session_id: SessionId::new(),
        title: "Evil\x1b]0;pwned\x07\ntitle".into(),
    };
    let line = continuation_line(&from);
    assert_eq!(
        line,
        format!(
            "continued from {} · Evil␛]0;pwned␇ title",
            from.session_id.short()
        )
    );
    assert!(crate::text::is_terminal_safe(&line));

    let events = branch(vec![
        continuation_event(
            &SummaryInput {
                conversation: String::new(),
                through: EventId::new(),
                messages: 6,
                questions: Vec::new(),
            },
            "- Old work.".into(),
            from,
        ),
        user("next"),
        answer("done"),
    ]);
    let input = summary_input(&events).unwrap();
    assert_eq!(
        input.conversation,
        "[Summary of the conversation before this point]\n- Old work.\n\n[User]\nnext\n\n\
         [Assistant]\ndone\n\n"
    );
    assert_eq!(input.through, events[2].id);
}
