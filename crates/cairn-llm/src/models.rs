//! Listing the models a provider offers, for `/model` without a name: OpenAI-compatible
//! servers answer `GET {base_url}/models`, Ollama `GET /api/tags`, Anthropic
//! `GET /v1/models`. One request, no retries: a person is waiting and can ask again.

use cairn_core::provider::ProviderError;
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};

use crate::http::{EXCERPT_CHARS, send_error};
use crate::select::model_names;
use crate::settings::{ProviderSettings, shorten};

/// Where the names are in the answer: the array under `list`, each entry's `field`.
pub(crate) struct ModelList<'a> {
    pub url: String,
    pub list: &'a str,
    pub field: &'a str,
}

/// The names the server lists, sorted, each once.
pub(crate) async fn fetch_model_names(
    settings: &ProviderSettings,
    client: &reqwest::Client,
    mut headers: HeaderMap,
    where_: ModelList<'_>,
) -> Result<Vec<String>, ProviderError> {
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    let response = client
        .get(&where_.url)
        .headers(headers)
        .send()
        .await
        .map_err(|err| send_error(settings, &where_.url, &err))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let excerpt = || settings.scrub(&shorten(&body, EXCERPT_CHARS));
    if status.as_u16() == 401 || status.as_u16() == 403 {
        return Err(ProviderError::Auth {
            status: status.as_u16(),
            key_env: settings.api_key_env.clone(),
            message: excerpt(),
        });
    }
    if !status.is_success() {
        return Err(ProviderError::Server {
            status: status.as_u16(),
            attempts: 1,
            message: excerpt(),
        });
    }
    let value: serde_json::Value =
        serde_json::from_str(&body).map_err(|err| ProviderError::Malformed {
            reason: format!("the model list is not JSON: {err}"),
            excerpt: excerpt(),
        })?;
    let mut names = model_names(&value, where_.list, where_.field);
    names.sort();
    names.dedup();
    Ok(names)
}
