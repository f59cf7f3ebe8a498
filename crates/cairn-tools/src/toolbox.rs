//! The [`Toolbox`]: one workspace's tools, as the front ends use them. It says where a read
//! tool's path is (for the policy to decide about) and runs a call once it is allowed.

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cairn_core::tool::{Place, ToolRequest};

use crate::{CommandSpec, ToolOutput, WorkspaceBoundary, list_dir, read_file, run_command};

/// The tools of one workspace.
#[derive(Clone, Debug)]
pub struct Toolbox {
    boundary: WorkspaceBoundary,
    shell: PathBuf,
    timeout: Duration,
    hidden: Vec<String>,
}

impl Toolbox {
    /// Tools reading inside `root` freely and running commands there with `shell`, stopped
    /// after `timeout`, without the variables named in `hidden`.
    pub fn new(
        root: &Path,
        shell: PathBuf,
        timeout: Duration,
        hidden: Vec<String>,
    ) -> io::Result<Self> {
        Ok(Self {
            boundary: WorkspaceBoundary::new(root)?,
            shell,
            timeout,
            hidden,
        })
    }

    pub fn root(&self) -> &Path {
        self.boundary.root()
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Where a read tool's path resolves to; a command is always in the workspace folder.
    pub fn place(&self, request: &ToolRequest) -> Place {
        match request {
            ToolRequest::ListDir { path } | ToolRequest::ReadFile { path, .. } => {
                match self.boundary.resolve(path) {
                    Ok(resolved) if resolved.inside => Place::InsideWorkspace,
                    Ok(_) => Place::OutsideWorkspace,
                    Err(_) => Place::Missing,
                }
            }
            ToolRequest::RunCommand { .. } => Place::InsideWorkspace,
        }
    }

    /// Runs an allowed call until it ends or `cancel` completes (which stops a command's
    /// whole process group).
    pub async fn execute(
        &self,
        request: &ToolRequest,
        cancel: impl Future<Output = ()>,
    ) -> ToolOutput {
        match request {
            ToolRequest::ListDir { path } => match self.boundary.resolve(path) {
                Ok(resolved) => blocking(move || list_dir(&resolved.path)).await,
                Err(err) => ToolOutput::error(format!("could not list {path}: {err}")),
            },
            ToolRequest::ReadFile {
                path,
                offset,
                limit,
            } => match self.boundary.resolve(path) {
                Ok(resolved) => {
                    let (offset, limit) = (*offset, *limit);
                    blocking(move || read_file(&resolved.path, offset, limit)).await
                }
                Err(err) => ToolOutput::error(format!("could not read {path}: {err}")),
            },
            ToolRequest::RunCommand { command } => {
                let spec = CommandSpec {
                    command: command.clone(),
                    directory: self.boundary.root().to_path_buf(),
                    shell: self.shell.clone(),
                    timeout: self.timeout,
                    hidden: self.hidden.clone(),
                };
                match run_command(&spec, cancel).await {
                    Ok(outcome) => outcome.to_tool_output(self.timeout),
                    Err(err) => ToolOutput::error(format!(
                        "could not start {}: {err}",
                        self.shell.display()
                    )),
                }
            }
        }
    }
}

/// Filesystem reads off the async threads.
async fn blocking(read: impl FnOnce() -> ToolOutput + Send + 'static) -> ToolOutput {
    tokio::task::spawn_blocking(read)
        .await
        .unwrap_or_else(|err| ToolOutput::error(format!("the read failed: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[tokio::test]
    async fn calls_run_in_the_workspace() {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("work");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(root.join("a.txt"), "hello\n").unwrap();
        let toolbox =
            Toolbox::new(&root, "sh".into(), Duration::from_secs(10), Vec::new()).unwrap();
        let read = ToolRequest::ReadFile {
            path: "a.txt".into(),
            offset: 1,
            limit: 10,
        };
        assert_eq!(toolbox.place(&read), Place::InsideWorkspace);
        assert_eq!(
            toolbox.execute(&read, std::future::pending()).await,
            ToolOutput::ok("     1\thello\n")
        );
        let outside = ToolRequest::ListDir { path: "..".into() };
        assert_eq!(toolbox.place(&outside), Place::OutsideWorkspace);
        let missing = ToolRequest::ListDir {
            path: "nope".into(),
        };
        assert_eq!(toolbox.place(&missing), Place::Missing);
        assert!(
            toolbox
                .execute(&missing, std::future::pending())
                .await
                .is_error
        );
        let command = ToolRequest::RunCommand {
            command: "cat a.txt".into(),
        };
        let output = toolbox.execute(&command, std::future::pending()).await;
        assert!(!output.is_error);
        assert!(output.text.ends_with("\nhello\n"), "{}", output.text);
    }
}
