//! A repository's identity across machines: its `origin` remote URL, normalised, so that one
//! repository checked out at different paths on different machines is recognised as one.
//!
//! The key is `host/path`: credentials, scheme, port, a trailing `/` and a `.git` suffix are
//! dropped and the host's case is folded, so `git@host:a/b.git`, `ssh://git@host:22/a/b`,
//! `https://user:pw@Host/a/b/` all become `host/a/b`. Ports are dropped on purpose: the same
//! server is usually reached over HTTPS on one port and SSH on another (GitLab's 2222, say),
//! and two repositories on one host differing only by port are far rarer than that. The
//! path's case is kept, since many servers tell `A/b` from `a/b`.
//!
//! A remote that is a path on this machine (`/srv/git/x.git`, `../x`, `file://...`) names no
//! repository other machines can see, so it gives no key: such a repository is matched on
//! this machine only, like one without a remote. The key never holds credentials, so it may
//! be stored and printed.

/// The identity of the repository whose `origin` is `url`; `None` for a local path or an
/// address this cannot read.
pub fn repository_key(url: &str) -> Option<String> {
    let url = url.trim();
    let (authority, path) = if let Some((scheme, rest)) = url.split_once("://") {
        if scheme.eq_ignore_ascii_case("file") || scheme.is_empty() {
            return None;
        }
        rest.split_once('/').unwrap_or((rest, ""))
    } else {
        // scp-like `[user@]host:path`; a colon after a slash is part of a local path.
        let colon = url.find(':')?;
        if url[..colon].contains('/') {
            return None;
        }
        (&url[..colon], &url[colon + 1..])
    };
    // Credentials come before the last `@` of the authority.
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = strip_port(host_port).to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    let path = path.trim_start_matches('/').trim_start_matches("~/");
    let path = path.trim_end_matches('/');
    let path = path
        .strip_suffix(".git")
        .unwrap_or(path)
        .trim_end_matches('/');
    if path.is_empty() {
        return None;
    }
    Some(format!("{host}/{path}"))
}

/// `host` without a `:port`; an IPv6 literal keeps its brackets.
fn strip_port(host_port: &str) -> &str {
    if host_port.starts_with('[') {
        return host_port
            .find(']')
            .map_or(host_port, |end| &host_port[..=end]);
    }
    host_port
        .split_once(':')
        .map_or(host_port, |(host, _)| host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn every_spelling_of_one_remote_is_one_key() {
        let spellings = [
            "git@host:a/b.git",
            "git@host:a/b",
            "git@HOST:/a/b.git",
            "ssh://git@host/a/b",
            "ssh://git@host:2222/a/b.git",
            "git+ssh://git@host/a/b.git/",
            "https://user:pw@host/a/b/",
            "https://token@Host/a/b",
            "http://host:8080/a/b.git",
            "git://host/a/b",
        ]
        .map(repository_key);
        assert_eq!(spellings, [(); 10].map(|()| Some("host/a/b".to_owned())));
    }

    #[test]
    fn credentials_never_reach_the_key() {
        let key = repository_key("https://alice:s3cr%40t@gitlab.example.com/team/app.git");
        assert_eq!(key.as_deref(), Some("gitlab.example.com/team/app"));
        assert_eq!(
            repository_key("ssh://alice@host/~/app.git").as_deref(),
            Some("host/app")
        );
        assert_eq!(
            repository_key("https://[::1]:8443/a/b").as_deref(),
            Some("[::1]/a/b")
        );
    }

    #[test]
    fn the_paths_case_is_kept_and_local_paths_have_no_key() {
        assert_eq!(
            repository_key("git@host:Team/App.git").as_deref(),
            Some("host/Team/App")
        );
        for local in [
            "/srv/git/app.git",
            "../app",
            "./a:b",
            "file:///srv/git/app.git",
            "https://host/",
            "",
            "git@host:",
        ] {
            assert_eq!(repository_key(local), None, "{local}");
        }
    }
}
