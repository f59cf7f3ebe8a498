//! Configuration: a TOML file, then environment overrides, then defaults.
//!
//! The file is `$CAIRN_CONFIG`, else `<config dir>/cairn/config.toml` (XDG variables
//! respected). A missing file means defaults. A wrong type or bad value is an error naming the
//! key, the file and the line. An unknown key is a [`ConfigWarning`] with the same details:
//! never silently ignored, but a config written for a newer Cairn (or with a typo) does not stop
//! every command; `cairn config check` turns the warnings into a failure. Keys and lines come
//! from toml's own spans, never from searching the text. Numbers that can
//! only break things (a zero timeout, endless retries) are out of range, with the ranges
//! documented in `config.example.toml`.

mod conversation;
mod store;
mod tools;
mod ui;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use conversation::ConversationConfig;
pub use store::{DEFAULT_CONNECT_TIMEOUT_SECS, STORE_URL_VARIABLE, StoreConfig};
pub use tools::{DEFAULT_COMMAND_TIMEOUT_SECS, DEFAULT_MAX_STEPS, ToolsConfig};
pub use ui::UiConfig;

use crate::paths::expand_home;
use crate::resume::DEFAULT_CONTINUE_MINUTES;

/// Which provider implementation to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Openai,
    Anthropic,
    Ollama,
    Echo,
}

impl ProviderKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ProviderKind::Openai => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Ollama => "ollama",
            ProviderKind::Echo => "echo",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "openai" => Some(ProviderKind::Openai),
            "anthropic" => Some(ProviderKind::Anthropic),
            "ollama" => Some(ProviderKind::Ollama),
            "echo" => Some(ProviderKind::Echo),
            _ => None,
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `[provider]` table. Every field is optional: unset fields take the chosen provider's
/// defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ProviderConfig {
    pub kind: Option<ProviderKind>,
    pub model: Option<String>,
    pub base_url: Option<String>,
    /// The name of the environment variable that holds the API key (never the key itself).
    pub api_key_env: Option<String>,
    pub connect_timeout_secs: Option<u64>,
    /// Longest silence allowed while a stream is open.
    pub idle_timeout_secs: Option<u64>,
    pub max_output_tokens: Option<u32>,
    pub context_window: Option<u64>,
    pub max_retries: Option<u32>,
    /// Delay between words of the offline echo provider.
    pub echo_word_delay_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    session_continue_minutes: Option<i64>,
    db_path: Option<PathBuf>,
    provider: Option<ProviderConfig>,
    store: Option<StoreConfig>,
    tools: Option<ToolsConfig>,
    conversation: Option<ConversationConfig>,
    ui: Option<UiConfig>,
}

/// The resolved configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub session_continue_minutes: u32,
    pub db_path: PathBuf,
    pub provider: ProviderConfig,
    /// Where sessions are kept: `url` set means a PostgreSQL server, else `db_path`.
    pub store: StoreConfig,
    /// The `[tools]` table (defaults when absent).
    pub tools: ToolsConfig,
    /// Titles (and, later, compaction) of conversations.
    pub conversation: ConversationConfig,
    /// The `[ui]` table (defaults when absent).
    pub ui: UiConfig,
    /// The file that was read, if one existed.
    pub source: Option<PathBuf>,
    /// Keys in the file that Cairn does not know, in the order they appear.
    pub warnings: Vec<ConfigWarning>,
}

/// A key in the config file that Cairn does not know: ignored, and reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigWarning {
    pub file: PathBuf,
    pub line: Option<usize>,
    /// Dotted, as in `provider.modle`.
    pub key: String,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown key `{}` in {}", self.key, self.file.display())?;
        if let Some(line) = self.line {
            write!(f, " line {line}")?;
        }
        f.write_str(" (ignored)")
    }
}

/// Where Cairn keeps its files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paths {
    pub config_file: PathBuf,
    /// Named by the user (`--config`, `CAIRN_CONFIG`) rather than the default location: then
    /// a missing file is a mistake to report, not a reason to use the defaults.
    pub config_is_explicit: bool,
    pub data_dir: PathBuf,
    /// Logs and prompt history.
    pub state_dir: PathBuf,
}

impl Paths {
    /// Resolves the paths from the environment (`CAIRN_CONFIG`, XDG variables, `HOME`).
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let dirs = directories::ProjectDirs::from("", "", "cairn").ok_or_else(|| {
            ConfigError::plain("could not determine the home directory (is HOME set?)")
        })?;
        let explicit = env("CAIRN_CONFIG")
            .filter(|value| !value.is_empty())
            .map(PathBuf::from);
        let config_is_explicit = explicit.is_some();
        let config_file = explicit.unwrap_or_else(|| dirs.config_dir().join("config.toml"));
        let data_dir = dirs.data_dir().to_path_buf();
        let state_dir = dirs
            .state_dir()
            .unwrap_or_else(|| dirs.data_local_dir())
            .to_path_buf();
        Ok(Self {
            config_file,
            config_is_explicit,
            data_dir,
            state_dir,
        })
    }
}

/// A configuration problem, with where it is when it comes from a file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub file: Option<PathBuf>,
    pub line: Option<usize>,
    pub key: Option<String>,
    pub message: String,
}

impl ConfigError {
    fn plain(message: impl Into<String>) -> Self {
        Self {
            file: None,
            line: None,
            key: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid configuration")?;
        if let Some(file) = &self.file {
            write!(f, " in {}", file.display())?;
            if let Some(line) = self.line {
                write!(f, " line {line}")?;
            }
        }
        if let Some(key) = &self.key {
            write!(f, ", key `{key}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl Config {
    /// Loads the configuration from the file named by `paths` (if present) and the
    /// environment overrides `CAIRN_DB_PATH`, `CAIRN_STORE_URL` and
    /// `CAIRN_SESSION_CONTINUE_MINUTES`.
    pub fn load(paths: &Paths, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let ((file, warnings), source) = match std::fs::read_to_string(&paths.config_file) {
            Ok(text) => (
                parse_file(&text, &paths.config_file)?,
                Some(paths.config_file.clone()),
            ),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && !paths.config_is_explicit => {
                ((ConfigFile::default(), Vec::new()), None)
            }
            Err(err) => {
                return Err(ConfigError {
                    file: Some(paths.config_file.clone()),
                    line: None,
                    key: None,
                    message: if err.kind() == std::io::ErrorKind::NotFound {
                        "the file does not exist (named by --config or CAIRN_CONFIG)".to_owned()
                    } else {
                        format!("cannot read the file: {err}")
                    },
                });
            }
        };

        let mut continue_minutes = file.session_continue_minutes;
        if let Some(value) = env("CAIRN_SESSION_CONTINUE_MINUTES").filter(|v| !v.is_empty()) {
            continue_minutes = Some(value.trim().parse::<i64>().map_err(|_| ConfigError {
                file: None,
                line: None,
                key: Some("CAIRN_SESSION_CONTINUE_MINUTES".into()),
                message: format!("expected a whole number of minutes, got {value:?}"),
            })?);
            if continue_minutes.is_some_and(|minutes| minutes < 0) {
                return Err(ConfigError {
                    file: None,
                    line: None,
                    key: Some("CAIRN_SESSION_CONTINUE_MINUTES".into()),
                    message: "must be 0 (off) or a positive number of minutes".into(),
                });
            }
        }
        let session_continue_minutes = match continue_minutes {
            None => DEFAULT_CONTINUE_MINUTES,
            Some(minutes) => u32::try_from(minutes).unwrap_or(u32::MAX),
        };

        // A relative path in the file means next to the file, whatever folder Cairn was started
        // in: otherwise each folder would silently get a database of its own. The environment
        // variable is relative to the current folder, as paths in a shell are.
        let from_file = file.db_path.map(|path| {
            let path = expand_home(&path);
            match paths.config_file.parent() {
                Some(config_dir) if path.is_relative() => config_dir.join(path),
                _ => path,
            }
        });
        let db_path = env("CAIRN_DB_PATH")
            .filter(|value| !value.is_empty())
            .map(|value| expand_home(Path::new(&value)))
            .or(from_file)
            .unwrap_or_else(|| paths.data_dir.join("sessions.db"));

        Ok(Self {
            session_continue_minutes,
            db_path,
            provider: file.provider.unwrap_or_default(),
            store: store::resolve(file.store, env)?,
            tools: file.tools.unwrap_or_default(),
            conversation: file.conversation.unwrap_or_default(),
            ui: file.ui.unwrap_or_default(),
            source,
            warnings,
        })
    }
}

/// Upper bounds for the numbers in `[provider]`: beyond them a value can only break things
/// (a retry loop that never gives up, a timeout no one waits for). `config.example.toml`
/// documents the same ranges.
const MAX_TIMEOUT_SECS: u64 = 86_400;
const MAX_RETRIES: u32 = 10;
const MAX_ECHO_WORD_DELAY_MS: u64 = 60_000;

/// Parses and validates the text of a config file; unknown keys come back as warnings.
fn parse_file(text: &str, path: &Path) -> Result<(ConfigFile, Vec<ConfigWarning>), ConfigError> {
    let error_at =
        |span: Option<std::ops::Range<usize>>, key: Option<String>, message: &str| ConfigError {
            file: Some(path.to_path_buf()),
            line: span.map(|span| line_of_offset(text, span.start)),
            key,
            message: message.to_owned(),
        };
    // Parsed once on its own for toml's spans of every key, so each error can name the key
    // and its line from the document's structure.
    let document =
        toml::de::DeTable::parse(text).map_err(|err| error_at(err.span(), None, err.message()))?;
    let type_error = |err: toml::de::Error| {
        let key = err
            .span()
            .and_then(|span| key_at_offset(document.get_ref(), span.start));
        error_at(err.span(), key, err.message())
    };
    let mut unknown_keys = Vec::new();
    let deserializer = toml::Deserializer::parse(text).map_err(type_error)?;
    let file: ConfigFile = serde_ignored::deserialize(deserializer, |ignored| {
        unknown_keys.push(dotted_key(&ignored));
    })
    .map_err(type_error)?;
    let mut warnings: Vec<ConfigWarning> = unknown_keys
        .into_iter()
        .map(|key| ConfigWarning {
            file: path.to_path_buf(),
            line: key_span(document.get_ref(), &key).map(|span| line_of_offset(text, span.start)),
            key,
        })
        .collect();
    // serde visits tables in its own order; a reader goes down the file.
    warnings.sort_by_key(|warning| warning.line);

    let invalid = |key: &str, message: &str| {
        error_at(
            key_span(document.get_ref(), key),
            Some(key.to_owned()),
            message,
        )
    };
    if file
        .session_continue_minutes
        .is_some_and(|minutes| minutes < 0)
    {
        return Err(invalid(
            "session_continue_minutes",
            "must be 0 (turns auto-resume off) or a positive number of minutes",
        ));
    }
    if let Some(store) = &file.store {
        store::validate(store, &invalid)?;
    }
    if let Some(tools) = &file.tools {
        tools::validate(tools, &invalid)?;
    }
    if let Some(conversation) = &file.conversation {
        conversation::validate(conversation, &invalid)?;
    }
    if let Some(provider) = &file.provider {
        if provider
            .model
            .as_deref()
            .is_some_and(|model| model.trim().is_empty())
        {
            return Err(invalid("provider.model", "must not be empty"));
        }
        if provider
            .base_url
            .as_deref()
            .is_some_and(|url| !(url.starts_with("http://") || url.starts_with("https://")))
        {
            return Err(invalid(
                "provider.base_url",
                "must start with http:// or https://",
            ));
        }
        if provider
            .api_key_env
            .as_deref()
            .is_some_and(|name| name.trim().is_empty())
        {
            return Err(invalid(
                "provider.api_key_env",
                "must name an environment variable",
            ));
        }
        for (key, value) in [
            (
                "provider.connect_timeout_secs",
                provider.connect_timeout_secs,
            ),
            ("provider.idle_timeout_secs", provider.idle_timeout_secs),
        ] {
            if value.is_some_and(|secs| !(1..=MAX_TIMEOUT_SECS).contains(&secs)) {
                return Err(invalid(
                    key,
                    &format!("must be from 1 to {MAX_TIMEOUT_SECS} seconds (a day)"),
                ));
            }
        }
        if provider.context_window == Some(0) {
            return Err(invalid("provider.context_window", "must be greater than 0"));
        }
        if provider.max_output_tokens == Some(0) {
            return Err(invalid(
                "provider.max_output_tokens",
                "must be greater than 0",
            ));
        }
        if provider
            .max_retries
            .is_some_and(|retries| retries > MAX_RETRIES)
        {
            return Err(invalid(
                "provider.max_retries",
                &format!("must be from 0 to {MAX_RETRIES}"),
            ));
        }
        if provider
            .echo_word_delay_ms
            .is_some_and(|delay| delay > MAX_ECHO_WORD_DELAY_MS)
        {
            return Err(invalid(
                "provider.echo_word_delay_ms",
                &format!("must be from 0 to {MAX_ECHO_WORD_DELAY_MS} milliseconds"),
            ));
        }
    }
    Ok((file, warnings))
}

/// `provider.modle` for a key serde skipped; the steps through an `Option` are not keys.
fn dotted_key(path: &serde_ignored::Path<'_>) -> String {
    let (parent, step) = match path {
        serde_ignored::Path::Root => return String::new(),
        serde_ignored::Path::Seq { parent, index } => (parent, index.to_string()),
        serde_ignored::Path::Map { parent, key } => (parent, key.clone()),
        serde_ignored::Path::Some { parent }
        | serde_ignored::Path::NewtypeStruct { parent }
        | serde_ignored::Path::NewtypeVariant { parent } => return dotted_key(parent),
    };
    match dotted_key(parent) {
        prefix if prefix.is_empty() => step,
        prefix => format!("{prefix}.{step}"),
    }
}

/// 1-based line of a byte offset.
fn line_of_offset(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map(|before| before.matches('\n').count() + 1)
        .unwrap_or(1)
}

/// The span of a dotted key (`provider.model`) in the parsed document: where it is assigned.
fn key_span(table: &toml::de::DeTable<'_>, dotted: &str) -> Option<std::ops::Range<usize>> {
    let (first, rest) = match dotted.split_once('.') {
        Some((first, rest)) => (first, Some(rest)),
        None => (dotted, None),
    };
    let (key, value) = table
        .iter()
        .find(|(key, _)| key.get_ref().as_ref() == first)?;
    match (rest, value.get_ref()) {
        (None, _) => Some(key.span()),
        (Some(rest), toml::de::DeValue::Table(inner)) => key_span(inner, rest),
        (Some(_), _) => None,
    }
}

/// The dotted key whose name or value covers byte `offset`, the innermost one: toml reports
/// an unknown key at its name and a wrong type at its value.
fn key_at_offset(table: &toml::de::DeTable<'_>, offset: usize) -> Option<String> {
    table.iter().find_map(|(key, value)| {
        let name = key.get_ref().as_ref();
        if let toml::de::DeValue::Table(inner) = value.get_ref()
            && let Some(inner_key) = key_at_offset(inner, offset)
        {
            return Some(format!("{name}.{inner_key}"));
        }
        (key.span().contains(&offset) || value.span().contains(&offset)).then(|| name.to_owned())
    })
}

#[cfg(test)]
mod tests;
