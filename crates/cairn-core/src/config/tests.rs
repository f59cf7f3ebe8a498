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
fn an_unknown_key_is_a_warning_naming_key_and_line_and_the_rest_still_applies() {
    let config = load_text(
        "session_continue_minutes = 5\n\n[provider]\nmodle = \"x\"\nkind = \"echo\"\n\
         [tools.shell]\nx = 1\n[future]\nwhatever = true\n",
        &[],
    )
    .unwrap();
    assert_eq!(config.session_continue_minutes, 5);
    assert_eq!(config.provider.kind, Some(ProviderKind::Echo));
    let found: Vec<(String, Option<usize>)> = config
        .warnings
        .iter()
        .map(|warning| (warning.key.clone(), warning.line))
        .collect();
    assert_eq!(
        found,
        vec![
            ("provider.modle".to_owned(), Some(4)),
            ("tools.shell".to_owned(), Some(6)),
            ("future".to_owned(), Some(8)),
        ]
    );
    let shown = config.warnings[0].to_string();
    assert!(
        shown.starts_with("unknown key `provider.modle` in /")
            && shown.ends_with("config.toml line 4 (ignored)"),
        "{shown}"
    );
    // An unknown key does not excuse a bad value beside it.
    let err = load_text("[provider]\nmodle = \"x\"\nmodel = \"\"\n", &[]).unwrap_err();
    assert_eq!(
        (err.line, err.key.as_deref()),
        (Some(3), Some("provider.model"))
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
fn a_relative_db_path_is_next_to_the_config_file() {
    let config = load_text("db_path = \"db/chats.db\"\n", &[]).unwrap();
    // `load_text` shows paths relative to the folder that holds config.toml.
    assert_eq!(config.db_path, PathBuf::from("db/chats.db"));
    let config = load_text("db_path = \"/abs/chats.db\"\n", &[]).unwrap();
    assert_eq!(config.db_path, PathBuf::from("/abs/chats.db"));
    let config = load_text("", &[("CAIRN_DB_PATH", "rel.db")]).unwrap();
    assert_eq!(config.db_path, PathBuf::from("rel.db"));
}

#[test]
fn the_title_model_is_read_and_an_empty_one_rejected() {
    let config = load_text("[conversation]\ntitle_model = \"small\"\n", &[]).unwrap();
    assert_eq!(config.conversation.title_model("big"), "small");
    assert_eq!(
        load_text("", &[]).unwrap().conversation.title_model("big"),
        "big"
    );
    let err = load_text("[conversation]\ntitle_model = \" \"\n", &[]).unwrap_err();
    assert_eq!(
        (err.line, err.key.as_deref()),
        (Some(2), Some("conversation.title_model"))
    );
}

#[test]
fn compact_at_defaults_to_four_fifths_zero_turns_it_off_and_past_one_is_rejected() {
    assert_eq!(load_text("", &[]).unwrap().conversation.compact_at(), 0.8);
    let off = load_text("[conversation]\ncompact_at = 0\n", &[]).unwrap();
    assert_eq!(off.conversation.compact_at(), 0.0);
    let half = load_text("[conversation]\ncompact_at = 0.5\n", &[]).unwrap();
    assert_eq!(half.conversation.compact_at(), 0.5);
    let err = load_text("[conversation]\ncompact_at = 1.5\n", &[]).unwrap_err();
    assert_eq!(
        (err.line, err.key.as_deref()),
        (Some(2), Some("conversation.compact_at"))
    );
}

#[test]
fn values_that_can_only_break_things_are_rejected_with_key_and_line() {
    let rejected = |text: &str| {
        let err = load_text(&format!("# settings\n[provider]\n{text}\n"), &[]).unwrap_err();
        (err.line, err.key, err.message)
    };
    let day = "must be from 1 to 86400 seconds (a day)".to_owned();
    assert_eq!(
        [
            rejected("idle_timeout_secs = 0"),
            rejected("connect_timeout_secs = 86401"),
            rejected("max_retries = 11"),
            rejected("context_window = 0"),
            rejected("max_output_tokens = 0"),
            rejected("echo_word_delay_ms = 60001"),
        ],
        [
            (
                Some(3),
                Some("provider.idle_timeout_secs".into()),
                day.clone()
            ),
            (Some(3), Some("provider.connect_timeout_secs".into()), day),
            (
                Some(3),
                Some("provider.max_retries".into()),
                "must be from 0 to 10".into()
            ),
            (
                Some(3),
                Some("provider.context_window".into()),
                "must be greater than 0".into()
            ),
            (
                Some(3),
                Some("provider.max_output_tokens".into()),
                "must be greater than 0".into()
            ),
            (
                Some(3),
                Some("provider.echo_word_delay_ms".into()),
                "must be from 0 to 60000 milliseconds".into()
            ),
        ]
    );
    let edges = load_text(
        "[provider]\nidle_timeout_secs = 86400\nconnect_timeout_secs = 1\nmax_retries = 0\n",
        &[],
    )
    .unwrap();
    assert_eq!(
        (
            edges.provider.idle_timeout_secs,
            edges.provider.connect_timeout_secs,
            edges.provider.max_retries
        ),
        (Some(86_400), Some(1), Some(0))
    );
}

#[test]
fn keys_are_found_by_structure_not_by_text() {
    // A dotted key, an inline table and a key mentioned in a comment or a string: the
    // line is where the key is really assigned.
    let err = load_text(
        "# provider.model = \"x\"\nsession_continue_minutes = 5\nprovider.model = \"\"\n",
        &[],
    )
    .unwrap_err();
    assert_eq!(
        (err.line, err.key.as_deref()),
        (Some(3), Some("provider.model"))
    );
    let config = load_text("\nprovider = { kind = \"echo\", modle = \"m\" }\n", &[]).unwrap();
    assert_eq!(
        (config.warnings[0].line, config.warnings[0].key.as_str()),
        (Some(2), "provider.modle")
    );
    let err = load_text("[provider]\nkind = \"echo\"\n[provider]\n", &[]).unwrap_err();
    assert_eq!(err.line, Some(3), "{err}");
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
    let text = include_str!("../../../../config.example.toml");
    let (file, warnings) = parse_file(text, Path::new("config.example.toml")).unwrap();
    assert_eq!(warnings, Vec::new());
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
        "[store]",
        "url",
        "[tools]",
        "enabled",
        "allow",
        "deny",
        "command_timeout_secs",
        "max_steps",
        "[conversation]",
        "title_model",
        "[ui]",
        "window_title",
        "mouse",
    ] {
        assert!(
            text.contains(key),
            "config.example.toml does not document {key}"
        );
    }
}

#[test]
fn the_window_title_is_on_unless_turned_off() {
    assert!(load_text("", &[]).unwrap().ui.window_title());
    let off = load_text("[ui]\nwindow_title = false\n", &[]).unwrap();
    assert!(!off.ui.window_title());
    let err = load_text("[ui]\nwindow_title = \"no\"\n", &[]).unwrap_err();
    assert_eq!(err.key.as_deref(), Some("ui.window_title"));
}

#[test]
fn the_mouse_is_left_to_the_terminal_unless_asked_for() {
    assert!(!load_text("", &[]).unwrap().ui.captures_mouse());
    assert!(
        !load_text("[ui]\nmouse = false\n", &[])
            .unwrap()
            .ui
            .captures_mouse()
    );
    assert!(
        load_text("[ui]\nmouse = true\n", &[])
            .unwrap()
            .ui
            .captures_mouse()
    );
    let err = load_text("[ui]\nmouse = \"yes\"\n", &[]).unwrap_err();
    assert!(err.to_string().contains("ui.mouse"), "{err}");
    let config = load_text("[ui]\nmause = true\n", &[]).unwrap();
    assert_eq!(
        config
            .warnings
            .iter()
            .map(|warning| warning.key.as_str())
            .collect::<Vec<_>>(),
        vec!["ui.mause"]
    );
}
