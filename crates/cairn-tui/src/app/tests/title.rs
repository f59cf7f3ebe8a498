//! Naming the session: asked of a real provider in the background, never of the echo.

use cairn_core::ProviderInfo;
use cairn_core::title::{TitleInput, TitleSource, refresh_request, title_request};
use pretty_assertions::assert_eq;

use super::*;
use crate::app::SessionJob;

fn input() -> TitleInput {
    TitleInput {
        question: "why does my value move?".into(),
        answer: "Borrow it instead.".into(),
    }
}

fn online_app(title_model: Option<&str>) -> App {
    let mut app = new_app();
    app.provider = ProviderInfo {
        kind: "openai".into(),
        model: "gpt-test".into(),
        offline: false,
    };
    app.model = "gpt-test".into();
    app.title_model = title_model.map(str::to_owned);
    app
}

#[test]
fn the_echo_provider_is_never_asked_for_a_title() {
    let mut app = new_app();
    let effects = app.handle(AppEvent::TitleWanted {
        session_id: session_id(),
        input: input(),
        refresh_of: None,
    });
    assert_eq!(effects, vec![]);
}

#[test]
fn a_real_provider_is_asked_with_the_title_model_and_its_title_is_stored() {
    for (title_model, asked) in [(None, "gpt-test"), (Some("small-model"), "small-model")] {
        let mut app = online_app(title_model);
        let effects = app.handle(AppEvent::TitleWanted {
            session_id: session_id(),
            input: input(),
            refresh_of: None,
        });
        assert_eq!(
            effects,
            vec![Effect::GenerateTitle {
                session_id: session_id(),
                request: title_request(&input(), asked),
                refresh_of: None,
            }]
        );
    }
    let mut app = online_app(None);
    let effects = app.handle(AppEvent::TitleGenerated {
        session_id: session_id(),
        title: "Ownership in Rust".into(),
        source: TitleSource::Model,
    });
    assert_eq!(
        effects,
        vec![Effect::Job(SessionJob::SetGeneratedTitle {
            session_id: session_id(),
            title: "Ownership in Rust".into(),
            source: TitleSource::Model,
        })]
    );
    // Nothing is shown until the session task says the title was taken.
    assert_eq!(app.session.title, "");
}

#[test]
fn checking_a_title_asks_whether_it_still_fits_and_stores_the_answer_as_checked() {
    let mut app = online_app(None);
    let effects = app.handle(AppEvent::TitleWanted {
        session_id: session_id(),
        input: input(),
        refresh_of: Some("Moves and borrows".into()),
    });
    assert_eq!(
        effects,
        vec![Effect::GenerateTitle {
            session_id: session_id(),
            request: refresh_request(&input(), "Moves and borrows", "gpt-test"),
            refresh_of: Some("Moves and borrows".into()),
        }]
    );
    let effects = app.handle(AppEvent::TitleGenerated {
        session_id: session_id(),
        title: "Release tagging".into(),
        source: TitleSource::Refreshed,
    });
    assert_eq!(
        effects,
        vec![Effect::Job(SessionJob::SetGeneratedTitle {
            session_id: session_id(),
            title: "Release tagging".into(),
            source: TitleSource::Refreshed,
        })]
    );
    // The echo provider is never asked.
    let mut app = new_app();
    let effects = app.handle(AppEvent::TitleWanted {
        session_id: session_id(),
        input: input(),
        refresh_of: Some("Moves and borrows".into()),
    });
    assert_eq!(effects, vec![]);
}
