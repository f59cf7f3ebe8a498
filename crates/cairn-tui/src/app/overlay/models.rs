//! The `/model` picker: the models the provider lists, the one in use marked, Up/Down to
//! move, Enter to switch, Esc to close. The list arrives from the driver, which asks the
//! provider; until then it says it is loading, and a failure is shown in its place.

use crossterm::event::{KeyCode, KeyEvent};

/// The picker's state.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ModelPicker {
    /// `None` while the provider is being asked.
    pub(crate) models: Option<Vec<String>>,
    pub(crate) error: Option<String>,
    pub(crate) selected: usize,
    /// The model in use when the picker opened.
    pub(crate) current: String,
}

/// What a key did in the picker.
pub(super) enum ModelAction {
    Stay,
    Close,
    Pick(String),
}

impl ModelPicker {
    pub(crate) fn loading(current: String) -> Self {
        Self {
            models: None,
            error: None,
            selected: 0,
            current,
        }
    }

    /// The list arrived: the highlight starts on the model in use.
    pub(crate) fn listed(&mut self, result: Result<Vec<String>, String>) {
        match result {
            Ok(models) => {
                self.selected = models
                    .iter()
                    .position(|model| *model == self.current)
                    .unwrap_or(0);
                self.models = Some(models);
            }
            Err(error) => {
                self.models = Some(Vec::new());
                self.error = Some(error);
            }
        }
    }
}

pub(super) fn on_key(picker: &mut ModelPicker, key: KeyEvent, page: usize) -> ModelAction {
    let count = picker.models.as_ref().map_or(0, Vec::len);
    let last = count.saturating_sub(1);
    match key.code {
        KeyCode::Esc => return ModelAction::Close,
        KeyCode::Enter => {
            return match picker
                .models
                .as_ref()
                .and_then(|models| models.get(picker.selected))
            {
                Some(model) => ModelAction::Pick(model.clone()),
                None => ModelAction::Close,
            };
        }
        KeyCode::Up => picker.selected = picker.selected.saturating_sub(1),
        KeyCode::Down => picker.selected = (picker.selected + 1).min(last),
        KeyCode::PageUp => picker.selected = picker.selected.saturating_sub(page),
        KeyCode::PageDown => picker.selected = (picker.selected + page).min(last),
        KeyCode::Home => picker.selected = 0,
        KeyCode::End => picker.selected = last,
        _ => {}
    }
    ModelAction::Stay
}
