//! `cairn`: the binary. Parses the command line, loads configuration, opens the session
//! store and hands over to the TUI, `cairn run` or the `sessions`/`config` commands.
//!
//! Errors reach the user as one `error: ...` line on standard error, with control characters
//! made visible and harmless, and a non-zero exit code; nothing a user can cause panics.

#[macro_use]
mod output;

mod cli;
mod completion;
mod context;
mod logging;
mod resolve;
mod run;
mod search;
mod sessions;
mod store_copy;
mod tool_setup;
mod tree_commands;
mod tui;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command, ConfigCommand, StoreCommand};
use crate::context::Context;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            errln!("error: could not start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(dispatch(cli));
    // Streams and probes may leave tasks behind; do not wait for them on exit.
    runtime.shutdown_background();
    match result {
        Ok(code) => code,
        // The reader went away (`cairn sessions list | head`): nothing is wrong.
        Err(err) if output::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let _ = std::io::stdout().flush();
            // The chain may quote a server (an error page, a model name): shown neutralised.
            errln!("error: {}", output::human(&format!("{err:#}")));
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(mut cli: Cli) -> eyre::Result<ExitCode> {
    // `cairn --model x run` and `cairn run --model x` both work; the latter wins.
    let chosen = match &cli.command {
        Some(Command::Run(args)) => &args.provider,
        _ => &cli.provider,
    };
    cli.global.provider = chosen.provider.clone().or(cli.provider.provider.clone());
    cli.global.model = chosen.model.clone().or(cli.provider.model.clone());
    match cli.command {
        Some(Command::Completions { shell }) => {
            completion::print_script(shell)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Config(ConfigCommand::Path)) => context::print_paths(&cli.global),
        Some(Command::Config(ConfigCommand::Check)) => context::check_config(&cli.global),
        Some(Command::Run(args)) => {
            let context = Context::load(&cli.global)?;
            context.warn_about_config();
            logging::init(&context.paths.state_dir, "run");
            run::run(&context, args).await
        }
        Some(Command::Sessions(command)) => {
            let context = Context::load(&cli.global)?;
            context.warn_about_config();
            sessions::run(&context, command).await
        }
        Some(Command::Store(StoreCommand::Copy(args))) => {
            let context = Context::load(&cli.global)?;
            context.warn_about_config();
            logging::init(&context.paths.state_dir, "store");
            store_copy::copy(&context, &args).await
        }
        None => {
            let context = Context::load(&cli.global)?;
            logging::init(&context.paths.state_dir, "tui");
            tui::run(&context, &cli.start).await
        }
    }
}
