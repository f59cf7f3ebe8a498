//! Naming the session: when the session task says the first answer is stored, the screen
//! asks the model for a title in the background, and a few turns later asks once whether
//! that title still fits; never with the offline echo provider (whose "title" would only
//! repeat the question: the first line stays the title).

use cairn_core::SessionId;
use cairn_core::title::{TitleInput, refresh_request, title_request};

use super::{App, Effect};

impl App {
    pub(super) fn on_title_wanted(
        &mut self,
        session_id: SessionId,
        input: &TitleInput,
        refresh_of: Option<String>,
        effects: &mut Vec<Effect>,
    ) {
        if self.provider.offline {
            return;
        }
        let model = self.title_model.as_deref().unwrap_or(&self.model);
        let request = match &refresh_of {
            Some(title) => refresh_request(input, title, model),
            None => title_request(input, model),
        };
        effects.push(Effect::GenerateTitle {
            session_id,
            request,
            refresh_of,
        });
    }
}
