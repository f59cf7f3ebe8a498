//! Naming the session: when the session task says the first answer is stored, the screen
//! asks the model for a title in the background, unless the provider is the offline echo
//! (whose "title" would only repeat the question: the first line stays the title).

use cairn_core::SessionId;
use cairn_core::title::{TitleInput, title_request};

use super::{App, Effect};

impl App {
    pub(super) fn on_title_wanted(
        &mut self,
        session_id: SessionId,
        input: &TitleInput,
        effects: &mut Vec<Effect>,
    ) {
        if self.provider.offline {
            return;
        }
        let model = self.title_model.as_deref().unwrap_or(&self.model);
        effects.push(Effect::GenerateTitle {
            session_id,
            request: title_request(input, model),
        });
    }
}
