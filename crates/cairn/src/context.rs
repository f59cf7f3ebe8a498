//! What every command needs: the configuration, the paths, the session store, the
//! workspace and the model provider, each loaded with an error that says what failed.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use cairn_core::config::{Config, Paths, ProviderKind};
use cairn_core::{ResumePolicy, ServiceError, SessionService, Workspace};
use cairn_llm::{ProviderOverrides, Selection};
use eyre::{WrapErr, eyre};

use crate::cli::GlobalArgs;

pub struct Context {
    pub paths: Paths,
    pub config: Config,
    pub global: GlobalArgs,
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn resolve_paths(global: &GlobalArgs) -> eyre::Result<Paths> {
    let mut paths = Paths::from_env(&env_var)?;
    if let Some(file) = &global.config {
        paths.config_file = file.clone();
        paths.config_is_explicit = true;
    }
    Ok(paths)
}

impl Context {
    pub fn load(global: &GlobalArgs) -> eyre::Result<Self> {
        let paths = resolve_paths(global)?;
        let mut config = Config::load(&paths, &env_var)?;
        // A test and demo knob: the echo provider's pace, without writing a config file.
        if let Some(delay) = env_var("CAIRN_ECHO_WORD_DELAY_MS") {
            let delay = delay
                .trim()
                .parse::<u64>()
                .map_err(|_| eyre!("CAIRN_ECHO_WORD_DELAY_MS must be a number of milliseconds"))?;
            config.provider.echo_word_delay_ms = Some(delay);
        }
        Ok(Self {
            paths,
            config,
            global: global.clone(),
        })
    }

    /// Unknown keys in the config file, one line each, for standard error.
    pub fn warn_about_config(&self) {
        for warning in &self.config.warnings {
            errln!("warning: {}", crate::output::human(&warning.to_string()));
        }
    }

    pub fn policy(&self) -> ResumePolicy {
        ResumePolicy {
            continue_minutes: self.config.session_continue_minutes,
        }
    }

    pub async fn open_store(&self) -> eyre::Result<Arc<dyn SessionService>> {
        self.open_store_for(/*reading_only*/ false).await
    }

    /// The store for a command that only reads: opened read-only where the database cannot
    /// be written (a read-only mount), so listing and showing sessions still work there.
    pub async fn open_store_for_reading(&self) -> eyre::Result<Arc<dyn SessionService>> {
        self.open_store_for(/*reading_only*/ true).await
    }

    async fn open_store_for(&self, reading_only: bool) -> eyre::Result<Arc<dyn SessionService>> {
        let access = if reading_only {
            cairn_store::Access::ReadOnly
        } else {
            cairn_store::Access::ReadWrite
        };
        match cairn_store::open_store(&self.config, access).await {
            Ok(service) => Ok(service),
            // These already name the store and say what to do.
            Err(error @ ServiceError::Incompatible { .. }) => Err(error.into()),
            Err(error @ ServiceError::Unavailable { .. }) if self.config.store.url.is_some() => {
                Err(error.into())
            }
            Err(error) => Err(eyre::Report::new(error).wrap_err(format!(
                "could not open the session database {}",
                cairn_store::describe_store(&self.config)
            ))),
        }
    }

    pub fn workspace(&self) -> eyre::Result<Workspace> {
        let cwd = std::env::current_dir().wrap_err("could not read the current directory")?;
        Workspace::detect(&cwd)
            .wrap_err_with(|| format!("could not resolve the workspace {}", cwd.display()))
    }

    /// Picks the model provider: `--provider`/`CAIRN_PROVIDER`, then the config, then
    /// whatever is available (keys, a local Ollama), else the offline echo provider.
    pub async fn provider(&self) -> eyre::Result<Selection> {
        let kind = match &self.global.provider {
            Some(text) => Some(ProviderKind::parse(text).ok_or_else(|| {
                eyre!("unknown provider `{text}`: expected openai, anthropic, ollama or echo")
            })?),
            None => None,
        };
        let overrides = ProviderOverrides {
            kind,
            model: self.global.model.clone(),
        };
        let selection = cairn_llm::select_provider(&self.config.provider, &overrides, &env_var)
            .await
            .wrap_err("could not set up the model provider")?;
        Ok(selection)
    }
}

/// `cairn config path`.
pub fn print_paths(global: &GlobalArgs) -> eyre::Result<ExitCode> {
    let paths = resolve_paths(global)?;
    let exists = |path: &Path| {
        if path.exists() {
            ""
        } else {
            " (not created yet)"
        }
    };
    outln!(
        "config:   {}{}",
        paths.config_file.display(),
        exists(&paths.config_file)
    )?;
    match Config::load(&paths, &env_var) {
        Ok(config) => {
            let created = if config.store.url.is_some() {
                ""
            } else {
                exists(&config.db_path)
            };
            outln!(
                "database: {}{created}",
                cairn_store::describe_store(&config)
            )?;
        }
        // The environment variable names the database whatever the file says.
        Err(err) => match env_var("CAIRN_DB_PATH").filter(|value| !value.is_empty()) {
            Some(path) => outln!(
                "database: {path}{} (from CAIRN_DB_PATH; the config has an error: {err})",
                exists(Path::new(&path))
            )?,
            None => outln!("database: unknown ({err})")?,
        },
    }
    let log = paths.state_dir.join("cairn.log");
    outln!("logs:     {}{}", log.display(), exists(&log))?;
    Ok(ExitCode::SUCCESS)
}

/// `cairn config check`.
pub fn check_config(global: &GlobalArgs) -> eyre::Result<ExitCode> {
    let paths = resolve_paths(global)?;
    match Config::load(&paths, &env_var) {
        // What every other command only warns about is a failure here: the check is how a
        // user (or a script) learns the file has keys Cairn ignores.
        Ok(config) if !config.warnings.is_empty() => {
            for warning in &config.warnings {
                errln!("error: {}", crate::output::human(&warning.to_string()));
            }
            Ok(ExitCode::FAILURE)
        }
        Ok(config) => {
            match &config.source {
                Some(file) => outln!("{}: ok", file.display())?,
                None => outln!(
                    "{}: not found; using the defaults",
                    paths.config_file.display()
                )?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            errln!("error: {err}");
            Ok(ExitCode::FAILURE)
        }
    }
}
