//! Configuration: a TOML file, then environment overrides, then defaults.
//!
//! The file is `$CAIRN_CONFIG`, else `<config dir>/cairn/config.toml` (XDG variables
//! respected). A missing file means defaults. Any unknown key, wrong type or bad value is an
//! error naming the key, the file and the line: a typo must never be silently ignored.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

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
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
struct ConfigFile {
    session_continue_minutes: Option<i64>,
    db_path: Option<PathBuf>,
    provider: Option<ProviderConfig>,
}

/// The resolved configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub session_continue_minutes: u32,
    pub db_path: PathBuf,
    pub provider: ProviderConfig,
    /// The file that was read, if one existed.
    pub source: Option<PathBuf>,
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
    /// environment overrides `CAIRN_DB_PATH` and `CAIRN_SESSION_CONTINUE_MINUTES`.
    pub fn load(paths: &Paths, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let (file, source) = match std::fs::read_to_string(&paths.config_file) {
            Ok(text) => (
                parse_file(&text, &paths.config_file)?,
                Some(paths.config_file.clone()),
            ),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && !paths.config_is_explicit => {
                (ConfigFile::default(), None)
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

        let db_path = env("CAIRN_DB_PATH")
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
            .or(file.db_path)
            .map(|path| expand_home(&path))
            .unwrap_or_else(|| paths.data_dir.join("sessions.db"));

        Ok(Self {
            session_continue_minutes,
            db_path,
            provider: file.provider.unwrap_or_default(),
            source,
        })
    }
}

/// Parses and validates the text of a config file.
fn parse_file(text: &str, path: &Path) -> Result<ConfigFile, ConfigError> {
    let file: ConfigFile = toml::from_str(text).map_err(|err| {
        let line = err.span().map(|span| line_of_offset(text, span.start));
        let message = err.message().to_owned();
        let key = unknown_field_name(&message)
            .map(|field| qualify_key(text, line, &field))
            .or_else(|| line.and_then(|line| key_on_line(text, line)));
        ConfigError {
            file: Some(path.to_path_buf()),
            line,
            key,
            message,
        }
    })?;

    let invalid = |key: &str, message: &str| {
        let line = find_key_line(text, key);
        ConfigError {
            file: Some(path.to_path_buf()),
            line,
            key: Some(key.to_owned()),
            message: message.to_owned(),
        }
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
        if provider.context_window == Some(0) {
            return Err(invalid("provider.context_window", "must be greater than 0"));
        }
        if provider.max_output_tokens == Some(0) {
            return Err(invalid(
                "provider.max_output_tokens",
                "must be greater than 0",
            ));
        }
    }
    Ok(file)
}

/// 1-based line of a byte offset.
fn line_of_offset(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map(|before| before.matches('\n').count() + 1)
        .unwrap_or(1)
}

/// serde's "unknown field `x`, expected ..." names the key.
fn unknown_field_name(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next().map(str::to_owned)
}

/// The table header in force at `line`, if any (`provider` for lines under `[provider]`).
fn table_at_line(text: &str, line: usize) -> Option<String> {
    text.lines()
        .take(line)
        .filter_map(|l| {
            let trimmed = l.trim();
            trimmed
                .strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .map(|name| name.trim().to_owned())
        })
        .last()
}

fn qualify_key(text: &str, line: Option<usize>, key: &str) -> String {
    match line.and_then(|line| table_at_line(text, line)) {
        Some(table) if !table.is_empty() && table != key => format!("{table}.{key}"),
        _ => key.to_owned(),
    }
}

/// The dotted key assigned on `line` (`provider.model`), if the line assigns one.
fn key_on_line(text: &str, line: usize) -> Option<String> {
    let content = text.lines().nth(line.checked_sub(1)?)?;
    let (key, _) = content.split_once('=')?;
    let key = key.trim().trim_matches('"');
    if key.is_empty() || key.starts_with('[') {
        return None;
    }
    Some(qualify_key(text, Some(line), key))
}

/// The line where a dotted key (`provider.model`) is assigned.
fn find_key_line(text: &str, dotted: &str) -> Option<usize> {
    text.lines().enumerate().find_map(|(index, _)| {
        let line = index + 1;
        (key_on_line(text, line).as_deref() == Some(dotted)).then_some(line)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn load_text(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let config_file = dir.path().join("config.toml");
        std::fs::write(&config_file, text).unwrap();
        let paths = Paths {
            config_file,
            config_is_explicit: false,
            data_dir: dir.path().join("data"),
            state_dir: dir.path().join("state"),
        };
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::load(&paths, &move |key| {
            env.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
        })
        .map(|mut config| {
            // The temp dir is gone after this function; keep only what tests compare.
            config.source = config.source.map(|_| PathBuf::from("config.toml"));
            config.db_path = config
                .db_path
                .strip_prefix(dir.path())
                .map(Path::to_path_buf)
                .unwrap_or(config.db_path.clone());
            config
        })
    }

    #[test]
    fn a_missing_file_is_fine_unless_it_was_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Paths {
            config_file: dir.path().join("absent.toml"),
            config_is_explicit: false,
            data_dir: dir.path().join("data"),
            state_dir: dir.path().join("state"),
        };
        let no_env = |_: &str| None;
        assert_eq!(Config::load(&paths, &no_env).unwrap().source, None);
        paths.config_is_explicit = true;
        let err = Config::load(&paths, &no_env).unwrap_err();
        assert!(err.to_string().contains("absent.toml"), "{err}");
        assert!(err.to_string().contains("does not exist"), "{err}");
    }

    #[test]
    fn empty_file_gives_defaults() {
        let config = load_text("", &[]).unwrap();
        assert_eq!(config.session_continue_minutes, 60);
        assert_eq!(config.db_path, PathBuf::from("data/sessions.db"));
        assert_eq!(config.provider, ProviderConfig::default());
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let err = load_text(
            "session_continue_minutes = 5\n\n[provider]\nmodle = \"x\"\n",
            &[],
        )
        .unwrap_err();
        assert_eq!(err.line, Some(4));
        assert_eq!(err.key.as_deref(), Some("provider.modle"));
        assert!(
            err.to_string()
                .contains("config.toml line 4, key `provider.modle`"),
            "{err}"
        );
    }

    #[test]
    fn wrong_type_names_key_and_line() {
        let err = load_text("# comment\nsession_continue_minutes = \"soon\"\n", &[]).unwrap_err();
        assert_eq!(err.line, Some(2));
        assert_eq!(err.key.as_deref(), Some("session_continue_minutes"));
    }

    #[test]
    fn negative_window_is_an_error_and_zero_is_allowed() {
        let err = load_text("\n\nsession_continue_minutes = -5\n", &[]).unwrap_err();
        assert_eq!(
            (err.line, err.key.as_deref()),
            (Some(3), Some("session_continue_minutes"))
        );
        assert_eq!(
            load_text("session_continue_minutes = 0", &[])
                .unwrap()
                .session_continue_minutes,
            0
        );
    }

    #[test]
    fn bad_provider_values_are_errors() {
        let err = load_text("[provider]\nkind = \"gpt\"\n", &[]).unwrap_err();
        assert_eq!(
            (err.line, err.key.as_deref()),
            (Some(2), Some("provider.kind"))
        );
        let err = load_text("[provider]\nbase_url = \"localhost:8080\"\n", &[]).unwrap_err();
        assert_eq!(
            (err.line, err.key.as_deref()),
            (Some(2), Some("provider.base_url"))
        );
    }

    #[test]
    fn environment_overrides_the_file() {
        let config = load_text(
            "session_continue_minutes = 5\ndb_path = \"/elsewhere.db\"\n",
            &[
                ("CAIRN_SESSION_CONTINUE_MINUTES", "7"),
                ("CAIRN_DB_PATH", "/x/y.db"),
            ],
        )
        .unwrap();
        assert_eq!(config.session_continue_minutes, 7);
        assert_eq!(config.db_path, PathBuf::from("/x/y.db"));
        let err = load_text("", &[("CAIRN_SESSION_CONTINUE_MINUTES", "-1")]).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("CAIRN_SESSION_CONTINUE_MINUTES"));
    }

    #[test]
    fn example_config_parses_and_documents_the_defaults() {
        let text = include_str!("../../../config.example.toml");
        let file = parse_file(text, Path::new("config.example.toml")).unwrap();
        assert_eq!(
            file.session_continue_minutes,
            Some(i64::from(DEFAULT_CONTINUE_MINUTES))
        );
        // Every key the file format accepts is shown in the example (commented or not).
        for key in [
            "session_continue_minutes",
            "db_path",
            "[provider]",
            "kind",
            "model",
            "base_url",
            "api_key_env",
            "connect_timeout_secs",
            "idle_timeout_secs",
            "max_output_tokens",
            "context_window",
            "max_retries",
            "echo_word_delay_ms",
        ] {
            assert!(
                text.contains(key),
                "config.example.toml does not document {key}"
            );
        }
    }
}
