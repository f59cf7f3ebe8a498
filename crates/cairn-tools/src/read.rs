//! `list_dir` and `read_file` on a path already resolved (see [`crate::WorkspaceBoundary`]):
//! whether they may run was decided on that same resolved path, so a symlink swapped in
//! between cannot redirect them.
//!
//! Invariant: what they return is bounded whatever the file: at most
//! [`READ_FILE_MAX_LINES`] lines and [`READ_FILE_MAX_BYTES`] bytes, each line cut at that
//! size too, read in one pass without holding the whole file; binary files are refused.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use cairn_core::tool::{READ_FILE_MAX_BYTES, READ_FILE_MAX_LINES};

use crate::ToolOutput;

/// The most entries `list_dir` returns.
pub const LIST_DIR_MAX_ENTRIES: usize = 1_000;

/// How much of a file's start is checked for NUL bytes, the mark of a binary file.
const BINARY_SNIFF_BYTES: usize = 8 * 1024;

/// The entries of a directory, sorted, folders ending with `/`.
pub fn list_dir(path: &Path) -> ToolOutput {
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(err) => return io_failure("list", path, &err),
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|entry| {
            let mut name = entry.file_name().to_string_lossy().into_owned();
            // file_type() does not follow symlinks: a link to a folder is shown as a link.
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => name.push('/'),
                Ok(kind) if kind.is_symlink() => name.push('@'),
                _ => {}
            }
            name
        })
        .collect();
    names.sort();
    let total = names.len();
    if total == 0 {
        return ToolOutput::ok("(empty directory)");
    }
    let mut text = names
        .into_iter()
        .take(LIST_DIR_MAX_ENTRIES)
        .collect::<Vec<_>>()
        .join("\n");
    if total > LIST_DIR_MAX_ENTRIES {
        text.push_str(&format!(
            "\n[{} more entries not shown]",
            total - LIST_DIR_MAX_ENTRIES
        ));
    }
    ToolOutput::ok(text)
}

/// Lines `offset..offset + limit` (1-based) of a text file, numbered.
pub fn read_file(path: &Path, offset: u64, limit: u64) -> ToolOutput {
    if path.is_dir() {
        return ToolOutput::error(format!(
            "{} is a directory; use list_dir to see what it holds",
            path.display()
        ));
    }
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) => return io_failure("read", path, &err),
    };
    match read_lines(
        BufReader::new(file),
        offset.max(1),
        limit.min(READ_FILE_MAX_LINES),
    ) {
        Ok(Ok(text)) => ToolOutput::ok(text),
        Ok(Err(refusal)) => ToolOutput::error(format!("{}: {refusal}", path.display())),
        Err(err) => io_failure("read", path, &err),
    }
}

fn read_lines(
    mut reader: impl BufRead,
    offset: u64,
    limit: u64,
) -> io::Result<Result<String, String>> {
    let start = reader.fill_buf()?;
    if start[..start.len().min(BINARY_SNIFF_BYTES)].contains(&0) {
        return Ok(Err("a binary file, not shown".to_owned()));
    }
    let mut out = String::new();
    let mut line = Vec::new();
    let mut number = 0_u64;
    let mut shown = 0_u64;
    loop {
        line.clear();
        let (read, cut) = read_line_capped(&mut reader, &mut line)?;
        if read == 0 {
            break;
        }
        number += 1;
        if number < offset {
            continue;
        }
        if shown == limit || out.len() + line.len() > READ_FILE_MAX_BYTES {
            out.push_str(&format!(
                "[the file continues; call read_file with offset {number} to read further]\n"
            ));
            return Ok(Ok(out));
        }
        if line.contains(&0) {
            return Ok(Err("a binary file, not shown".to_owned()));
        }
        let Ok(text) = std::str::from_utf8(&line) else {
            return Ok(Err(format!(
                "line {number} is not UTF-8 text; a binary file, not shown"
            )));
        };
        let text = text.trim_end_matches(['\n', '\r']);
        out.push_str(&format!("{number:>6}\t{text}"));
        if cut {
            out.push_str(" [line cut]");
        }
        out.push('\n');
        shown += 1;
    }
    if shown == 0 {
        return Ok(Ok(if number == 0 {
            "(empty file)".to_owned()
        } else {
            format!("(the file has {number} lines; offset {offset} is past its end)")
        }));
    }
    Ok(Ok(out))
}

/// Reads one line into `line`, keeping at most [`READ_FILE_MAX_BYTES`] of it and skipping
/// the rest; returns the bytes consumed and whether the line was cut. A cut never splits a
/// UTF-8 character.
fn read_line_capped(reader: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<(usize, bool)> {
    let kept = (&mut *reader)
        .take(READ_FILE_MAX_BYTES as u64)
        .read_until(b'\n', line)?;
    if kept < READ_FILE_MAX_BYTES || line.last() == Some(&b'\n') {
        return Ok((kept, false));
    }
    let mut skipped = 0;
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            break;
        }
        match buffer.iter().position(|&b| b == b'\n') {
            Some(at) => {
                reader.consume(at + 1);
                skipped += at + 1;
                break;
            }
            None => {
                let len = buffer.len();
                reader.consume(len);
                skipped += len;
            }
        }
    }
    if skipped > 0 {
        while !line.is_empty() && std::str::from_utf8(line).is_err() {
            line.pop();
        }
    }
    Ok((kept + skipped, skipped > 0))
}

fn io_failure(verb: &str, path: &Path, err: &io::Error) -> ToolOutput {
    ToolOutput::error(format!("could not {verb} {}: {err}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn a_directory_lists_sorted_with_kinds() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("b.txt"), "").unwrap();
        std::fs::write(dir.path().join("a.txt"), "").unwrap();
        std::os::unix::fs::symlink("src", dir.path().join("link")).unwrap();
        assert_eq!(
            list_dir(dir.path()),
            ToolOutput::ok("a.txt\nb.txt\nlink@\nsrc/")
        );
        assert!(list_dir(&dir.path().join("missing")).is_error);
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(list_dir(empty.path()), ToolOutput::ok("(empty directory)"));
    }

    #[test]
    fn a_file_reads_numbered_from_an_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, "one\ntwo\r\nthree\nfour").unwrap();
        assert_eq!(
            read_file(&path, 1, 2000),
            ToolOutput::ok("     1\tone\n     2\ttwo\n     3\tthree\n     4\tfour\n")
        );
        assert_eq!(
            read_file(&path, 2, 2),
            ToolOutput::ok(
                "     2\ttwo\n     3\tthree\n\
                 [the file continues; call read_file with offset 4 to read further]\n"
            )
        );
        assert_eq!(
            read_file(&path, 9, 10),
            ToolOutput::ok("(the file has 4 lines; offset 9 is past its end)")
        );
        assert!(read_file(dir.path(), 1, 10).text.contains("use list_dir"));
    }

    #[test]
    fn long_files_stop_at_the_line_and_byte_caps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long.txt");
        let text: String = (1..=5000).map(|n| format!("line {n}\n")).collect();
        std::fs::write(&path, text).unwrap();
        let out = read_file(&path, 1, 99_999).text;
        assert_eq!(out.lines().count(), 2001);
        assert!(out.ends_with("call read_file with offset 2001 to read further]\n"));

        let wide = dir.path().join("wide.txt");
        let line = format!("a{}", "é".repeat(150_000));
        std::fs::write(&wide, format!("{line}\n{line}\n{line}\n")).unwrap();
        let out = read_file(&wide, 1, 10).text;
        assert!(out.len() <= READ_FILE_MAX_BYTES + 200, "{}", out.len());
        assert!(out.contains("     1\t"), "the first line is shown, cut");
        assert!(out.contains("[line cut]"));
        assert!(out.contains("offset 2"));
    }

    #[test]
    fn binary_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.bin");
        std::fs::write(&path, b"\x7fELF\x00\x01\x02").unwrap();
        let out = read_file(&path, 1, 10);
        assert!(out.is_error);
        assert!(
            out.text.contains("a binary file, not shown"),
            "{}",
            out.text
        );
        let latin1 = dir.path().join("latin1.txt");
        std::fs::write(&latin1, b"caf\xe9\n").unwrap();
        assert!(read_file(&latin1, 1, 10).text.contains("not UTF-8"));
        let empty = dir.path().join("empty.txt");
        std::fs::write(&empty, "").unwrap();
        assert_eq!(read_file(&empty, 1, 10), ToolOutput::ok("(empty file)"));
    }
}
