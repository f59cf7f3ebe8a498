//! Choosing the provider for this run, and saying why.
//!
//! Kind: overrides (`--provider`, or `CAIRN_PROVIDER`) > config `kind` > auto-detection
//! (`ANTHROPIC_API_KEY`, then `OPENAI_API_KEY`, then an Ollama server answering within
//! ~300 ms, then the offline echo provider). Model: overrides > `CAIRN_MODEL` > config >
//! what a detected Ollama lists > the provider's default.
//!
//! Invariants: the `[provider]` table's model, base URL, key variable and context window
//! apply only when its `kind` is unset or matches the chosen kind (a model name for one
//! provider means nothing to another); timeouts, retries and output limits always apply.
//! A real api.openai.com/api.anthropic.com endpoint without a key is an error; a custom base
//! URL without one is a local server and fine. No key value ever reaches `reason` or an error.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use cairn_core::config::{ProviderConfig, ProviderKind};
use cairn_core::provider::{ModelProvider, ProviderError};

use crate::anthropic::AnthropicProvider;
use crate::echo::EchoProvider;
use crate::openai::OpenAiProvider;
use crate::settings::{
    ApiKey, DEFAULT_ECHO_WORD_DELAY, DEFAULT_OLLAMA_HOST, ProviderSettings, default_model,
};

/// How long the Ollama probe may take, connect and answer together.
const OLLAMA_PROBE_TIMEOUT: Duration = Duration::from_millis(300);
const OLLAMA_PORT: u16 = 11434;

/// What the command line (or `CAIRN_PROVIDER` / `CAIRN_MODEL`) asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProviderOverrides {
    pub kind: Option<ProviderKind>,
    pub model: Option<String>,
}

/// The chosen provider and a sentence saying why, for the status line or `--verbose`.
#[derive(Clone)]
pub struct Selection {
    pub provider: Arc<dyn ModelProvider>,
    pub reason: String,
}

impl fmt::Debug for Selection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Selection")
            .field("provider", &self.provider.info())
            .field("reason", &self.reason)
            .finish()
    }
}

/// Picks and builds the provider. `env` reads environment variables (injectable for tests).
pub async fn select_provider(
    config: &ProviderConfig,
    overrides: &ProviderOverrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Selection, ProviderError> {
    let env_value = |name: &str| env(name).filter(|value| !value.trim().is_empty());
    let ollama_host = env_value("OLLAMA_HOST")
        .map(|host| normalize_ollama_host(&host))
        .unwrap_or_else(|| DEFAULT_OLLAMA_HOST.to_owned());

    let mut detected_model = None;
    let (kind, why) = if let Some(kind) = overrides.kind {
        (kind, "chosen with --provider or CAIRN_PROVIDER".to_owned())
    } else if let Some(text) = env_value("CAIRN_PROVIDER") {
        let kind = ProviderKind::parse(&text).ok_or_else(|| {
            ProviderError::Config(format!(
                "CAIRN_PROVIDER is {text:?}; expected openai, anthropic, ollama or echo"
            ))
        })?;
        (kind, "CAIRN_PROVIDER is set".to_owned())
    } else if let Some(kind) = config.kind {
        (kind, format!("kind = \"{kind}\" in config.toml"))
    } else if env_value("ANTHROPIC_API_KEY").is_some() {
        (
            ProviderKind::Anthropic,
            "ANTHROPIC_API_KEY is set".to_owned(),
        )
    } else if env_value("OPENAI_API_KEY").is_some() {
        (ProviderKind::Openai, "OPENAI_API_KEY is set".to_owned())
    } else if let Some(models) = probe_ollama(&ollama_host).await {
        detected_model = models.into_iter().next();
        (
            ProviderKind::Ollama,
            format!("an Ollama server answers at {ollama_host}"),
        )
    } else {
        let echo = echo_provider(config, /*config_applies*/ true);
        return Ok(Selection {
            provider: Arc::new(echo),
            reason: format!(
                "using the offline echo provider: no ANTHROPIC_API_KEY or OPENAI_API_KEY and \
                 no Ollama at {ollama_host}. Set a key or configure [provider] in config.toml"
            ),
        });
    };

    let config_applies = config.kind.is_none_or(|configured| configured == kind);
    let model = overrides
        .model
        .clone()
        .filter(|model| !model.trim().is_empty())
        .or_else(|| env_value("CAIRN_MODEL"))
        .or_else(|| config.model.clone().filter(|_| config_applies))
        .or(detected_model)
        .unwrap_or_else(|| default_model(kind).to_owned());

    let provider: Arc<dyn ModelProvider> = match kind {
        ProviderKind::Echo => {
            return Ok(Selection {
                provider: Arc::new(echo_provider(config, config_applies)),
                reason: format!("using the offline echo provider ({why})"),
            });
        }
        ProviderKind::Openai | ProviderKind::Ollama => {
            Arc::new(OpenAiProvider::new(http_settings(
                kind,
                config,
                config_applies,
                model,
                &ollama_host,
                &env_value,
            )?)?)
        }
        ProviderKind::Anthropic => Arc::new(AnthropicProvider::new(http_settings(
            kind,
            config,
            config_applies,
            model,
            &ollama_host,
            &env_value,
        )?)?),
    };
    Ok(Selection {
        provider,
        reason: format!("using {kind} ({why})"),
    })
}

fn echo_provider(config: &ProviderConfig, config_applies: bool) -> EchoProvider {
    let defaults = EchoProvider::default();
    EchoProvider::new(
        config
            .echo_word_delay_ms
            .map(Duration::from_millis)
            .unwrap_or(DEFAULT_ECHO_WORD_DELAY),
        config
            .context_window
            .filter(|_| config_applies)
            .unwrap_or_else(|| defaults.context_window()),
    )
}

/// Settings for an HTTP provider from config, environment and defaults.
fn http_settings(
    kind: ProviderKind,
    config: &ProviderConfig,
    config_applies: bool,
    model: String,
    ollama_host: &str,
    env_value: &dyn Fn(&str) -> Option<String>,
) -> Result<ProviderSettings, ProviderError> {
    let mut settings = ProviderSettings::new(kind);
    settings.model = model;
    if kind == ProviderKind::Ollama {
        settings.base_url = format!("{ollama_host}/v1");
    }
    if config_applies {
        if let Some(base_url) = &config.base_url {
            settings.base_url = base_url.trim_end_matches('/').to_owned();
        }
        if let Some(name) = &config.api_key_env {
            settings.api_key_env = name.clone();
        }
        if let Some(window) = config.context_window {
            settings.context_window = window;
        }
    }
    if let Some(secs) = config.connect_timeout_secs {
        settings.connect_timeout = Duration::from_secs(secs);
    }
    if let Some(secs) = config.idle_timeout_secs {
        settings.idle_timeout = Duration::from_secs(secs);
    }
    if let Some(retries) = config.max_retries {
        settings.retry.max_retries = retries;
    }
    settings.max_output_tokens = config.max_output_tokens;

    settings.api_key = env_value(&settings.api_key_env).map(|key| ApiKey::new(key.trim()));
    let official_host = match kind {
        ProviderKind::Openai => Some("://api.openai.com"),
        ProviderKind::Anthropic => Some("://api.anthropic.com"),
        ProviderKind::Ollama | ProviderKind::Echo => None,
    };
    if let Some(host) = official_host
        && settings.api_key.is_none()
        && settings.base_url.contains(host)
    {
        return Err(ProviderError::Config(format!(
            "{kind} needs an API key: set {} (or point [provider] base_url at a local \
             server that needs none)",
            settings.api_key_env
        )));
    }
    Ok(settings)
}

/// `OLLAMA_HOST` as a base URL: `host:port`, `host` or a full URL; no trailing slash.
pub fn normalize_ollama_host(host: &str) -> String {
    let host = host.trim().trim_end_matches('/');
    // Like Ollama's own client: a bare host gets port 11434, a URL its scheme's default.
    let (scheme, rest, explicit_scheme) = match host.split_once("://") {
        Some((scheme, rest)) => (scheme, rest, true),
        None => ("http", host, false),
    };
    let (authority, path) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, ""),
    };
    // Ollama listens on all interfaces when told 0.0.0.0; a client must name one.
    let authority = authority.replacen("0.0.0.0", "127.0.0.1", 1);
    let has_port = match authority.rfind(']') {
        Some(bracket) => authority[bracket..].contains(':'),
        None => authority.contains(':'),
    };
    if has_port || explicit_scheme || authority.is_empty() {
        format!("{scheme}://{authority}{path}")
    } else {
        format!("{scheme}://{authority}:{OLLAMA_PORT}{path}")
    }
}

/// The models an Ollama server at `base` lists, or `None` when nothing answers in time.
async fn probe_ollama(base: &str) -> Option<Vec<String>> {
    tokio::time::timeout(OLLAMA_PROBE_TIMEOUT, async {
        let authority = base.split_once("://").map_or(base, |(_, rest)| rest);
        let authority = authority.split('/').next().unwrap_or(authority);
        // A refused TCP connect is the common case and the fastest answer.
        tokio::net::TcpStream::connect(authority).await.ok()?;
        let client = crate::http::probe_client(OLLAMA_PROBE_TIMEOUT)?;
        if let Some(tags) = get_json(&client, &format!("{base}/api/tags")).await {
            return Some(model_names(&tags, "models", "name"));
        }
        let models = get_json(&client, &format!("{base}/v1/models")).await?;
        Some(model_names(&models, "data", "id"))
    })
    .await
    .ok()
    .flatten()
}

async fn get_json(client: &reqwest::Client, url: &str) -> Option<serde_json::Value> {
    let response = client.get(url).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.json().await.ok()
}

pub(crate) fn model_names(value: &serde_json::Value, list: &str, field: &str) -> Vec<String> {
    value
        .get(list)
        .and_then(serde_json::Value::as_array)
        .map(|models| {
            models
                .iter()
                .filter_map(|model| model.get(field)?.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn ollama_host_forms() {
        for (given, expected) in [
            ("127.0.0.1:11434", "http://127.0.0.1:11434"),
            ("localhost", "http://localhost:11434"),
            ("0.0.0.0", "http://127.0.0.1:11434"),
            ("http://gpu-box:8080/", "http://gpu-box:8080"),
            ("https://ollama.example.com", "https://ollama.example.com"),
            ("[::1]:9000", "http://[::1]:9000"),
        ] {
            assert_eq!(normalize_ollama_host(given), expected, "{given}");
        }
    }
}
