//! The workspace's tools as the config sets them up, the same for the chat and `cairn run`:
//! the `[tools]` rules, the workspace folder (the git work tree, else where Cairn started),
//! the user's shell, the timeout and the variables a command never sees.

use cairn_core::tool::ToolPolicy;
use cairn_tools::{ALWAYS_HIDDEN_VARIABLES, CommandSpec, Toolbox};
use eyre::WrapErr;

use crate::context::Context;

/// The tools of one run of Cairn.
pub struct WorkspaceTools {
    pub toolbox: Toolbox,
    pub policy: ToolPolicy,
    pub max_steps: u32,
}

/// `None` when `[tools] enabled = false`. `can_ask`: someone is there to approve a call
/// (the chat); without (`cairn run`) what would ask is denied.
pub fn workspace_tools(
    context: &Context,
    workspace: &cairn_core::Workspace,
    can_ask: bool,
) -> eyre::Result<Option<WorkspaceTools>> {
    let config = &context.config.tools;
    if !config.enabled() {
        return Ok(None);
    }
    let policy = ToolPolicy {
        allow: config.allow_prefixes(),
        deny: config.deny_prefixes(),
        grants: Vec::new(),
        can_ask,
    };
    let mut hidden: Vec<String> = ALWAYS_HIDDEN_VARIABLES
        .iter()
        .map(|name| (*name).to_owned())
        .collect();
    hidden.extend(context.config.provider.api_key_env.clone());
    let root = workspace.git_root.as_ref().unwrap_or(&workspace.directory);
    let shell = CommandSpec::user_shell(&|key| std::env::var(key).ok());
    let toolbox = Toolbox::new(root, shell, config.command_timeout(), hidden)
        .wrap_err_with(|| format!("could not open the workspace {}", root.display()))?;
    Ok(Some(WorkspaceTools {
        toolbox,
        policy,
        max_steps: config.max_steps(),
    }))
}
