//! Every flag and subcommand the docs and the deploy files give a program is one that program's
//! own `--help` (and each subcommand's `--help`) lists: the command lines in code spans, fenced
//! blocks, shell scripts and systemd units, and flags named on their own in a paragraph about
//! one program.

use gatehouse_e2e::programs::{self, Program};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The demo launcher, which reads no command line at all.
const DEMO: &str = "gatehouse-demo";

/// Flags of cargo and of the test harness, which docs name beside a program (`--features rpi`,
/// `--include-ignored`) without giving them to it.
const CARGO_FLAGS: [&str; 10] = [
    "--features",
    "--release",
    "--target",
    "--bench",
    "--test",
    "--example",
    "--bin",
    "--package",
    "--include-ignored",
    "--nocapture",
];

/// The deploy scripts: a flag named after one of them in a paragraph is the script's (their
/// flags are checked in `docs.rs`).
const SCRIPTS: [&str; 4] = [
    "install-pi.sh",
    "gate-boot-config.sh",
    "cross-build.sh",
    "pin-rules.sh",
];

/// One command of a program as its `--help` describes it.
#[derive(Debug, Default)]
pub(crate) struct Cli {
    /// Its flags, long and short, each with whether it takes a value.
    flags: BTreeMap<String, bool>,
    /// Its subcommands by name.
    commands: BTreeMap<String, Cli>,
    /// Whether it takes positional arguments.
    positional: bool,
}

impl Cli {
    /// Every command of the tree, this one first.
    fn all(&self) -> Vec<&Cli> {
        let mut out = vec![self];
        for sub in self.commands.values() {
            out.extend(sub.all());
        }
        out
    }
}

/// A `--help` text as a command (its subcommands named but not yet filled in).
fn parse_help(text: &str) -> Cli {
    let mut cli = Cli::default();
    let mut section = "";
    for line in text.lines() {
        if !line.starts_with(' ') {
            section = line.strip_suffix(':').unwrap_or("");
            continue;
        }
        let trimmed = line.trim_start();
        match section {
            "Commands" => {
                if let Some(name) = trimmed.split_whitespace().next() {
                    cli.commands.insert(name.to_owned(), Cli::default());
                }
            }
            "Arguments" => cli.positional |= trimmed.starts_with(['<', '[']),
            "Options" if trimmed.starts_with('-') => {
                // `-h, --help  Print help`, `--to <TO>  The backup file`: the flags and their
                // value come before the description.
                let words: Vec<&str> = trimmed
                    .split_whitespace()
                    .take_while(|w| w.starts_with(['-', '<', '[']))
                    .collect();
                let value = words.iter().any(|w| w.starts_with(['<', '[']));
                for word in words.iter().filter(|w| w.starts_with('-')) {
                    cli.flags
                        .insert(word.trim_end_matches(',').to_owned(), value);
                }
            }
            _ => {}
        }
    }
    cli
}

/// The command tree of the binary `bin` below `path`, from `--help` of every subcommand.
fn help_tree(bin: &Path, path: &[String]) -> Cli {
    let out = Command::new(bin)
        .args(path)
        .arg("--help")
        .output()
        .unwrap_or_else(|e| panic!("{} {path:?} --help: {e}", bin.display()));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("Usage:"),
        "{} {path:?} --help: {}\n{}",
        bin.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut cli = parse_help(&text);
    for (name, sub) in cli.commands.iter_mut() {
        if name == "help" {
            sub.positional = true;
        } else {
            let mut sub_path = path.to_vec();
            sub_path.push(name.clone());
            *sub = help_tree(bin, &sub_path);
        }
    }
    cli
}

/// A piece of a doc that may hold a command line, with where it is and what it is about.
#[derive(Debug)]
pub(crate) struct Span {
    /// `doc:line`.
    pub(crate) place: String,
    /// The text.
    pub(crate) text: String,
    /// An inline `code` span in prose (not a fenced block, script line or unit line).
    inline: bool,
    /// The prose before the span in its paragraph or list item (inline spans only).
    before: String,
}

/// The code of a Markdown doc: its inline `code` spans and the lines of its fenced blocks. Rust
/// blocks are examples of code to write, not facts, and are left out.
pub(crate) fn markdown_spans(doc: &str, text: &str) -> Vec<Span> {
    let mut out = Vec::new();
    let mut fence: Option<bool> = None; // inside a block: whether it is Rust
    let mut paragraph = String::new();
    for (n, line) in text.lines().enumerate() {
        let place = format!("{doc}:{}", n + 1);
        if let Some(info) = line.trim_start().strip_prefix("```") {
            fence = match fence {
                Some(_) => None,
                None => Some(info.trim() == "rust"),
            };
            paragraph.clear();
            continue;
        }
        match fence {
            Some(true) => {}
            Some(false) => out.push(Span {
                place,
                text: line.to_owned(),
                inline: false,
                before: String::new(),
            }),
            None => {
                let item = line.trim_start();
                let numbered = item
                    .split_once(". ")
                    .is_some_and(|(n, _)| n.chars().all(|c| c.is_ascii_digit()));
                if item.is_empty() || item.starts_with(['-', '*', '#', '|']) || numbered {
                    paragraph.clear();
                }
                for (i, piece) in line.split('`').enumerate() {
                    if i % 2 == 1 {
                        out.push(Span {
                            place: place.clone(),
                            text: piece.to_owned(),
                            inline: true,
                            before: paragraph.clone(),
                        });
                    }
                    paragraph.push_str(piece);
                    paragraph.push(' ');
                }
            }
        }
    }
    out
}

/// The command lines of a deploy file that is not Markdown: a unit's `Exec…=` lines, a script's
/// lines, and the code spans of every comment.
fn file_spans(name: &str, text: &str) -> Vec<Span> {
    let unit = name.ends_with(".service") || name.ends_with(".timer");
    let script = name.ends_with(".sh") || text.starts_with("#!");
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let place = format!("{name}:{}", n + 1);
        let trimmed = line.trim_start();
        let command = if trimmed.starts_with('#') {
            None
        } else if unit {
            trimmed
                .split_once('=')
                .filter(|(key, _)| key.starts_with("Exec"))
                .map(|(_, value)| value.trim_start_matches(['+', '-', '@', '!', ':']))
        } else if script {
            Some(line)
        } else {
            None
        };
        if let Some(command) = command {
            out.push(Span {
                place: place.clone(),
                text: command.to_owned(),
                inline: false,
                before: String::new(),
            });
        }
        for (i, piece) in line.split('`').enumerate() {
            if i % 2 == 1 && trimmed.starts_with('#') {
                out.push(Span {
                    place: place.clone(),
                    text: piece.to_owned(),
                    inline: true,
                    before: String::new(),
                });
            }
        }
    }
    out
}

/// A shell line as its simple commands, each as words: split at `;`, `&&`, `||`, ` | `, `&`,
/// parentheses, `$(`, backquotes and a comment, outside quotes and outside `[…]` (where `|`
/// separates alternatives of a synopsis, `[--config F | --data-dir D]`).
fn commands(line: &str) -> Vec<Vec<String>> {
    let mut out = vec![Vec::new()];
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    let chars: Vec<char> = line.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let prev = if i == 0 { None } else { Some(chars[i - 1]) };
        if let Some(q) = quote {
            if c == q {
                quote = None;
            } else {
                word.get_or_insert_default().push(c);
            }
            continue;
        }
        let spaced = |x: Option<char>| x.is_none_or(char::is_whitespace);
        let separator = match c {
            '(' => prev != Some('='),
            ';' | ')' | '`' => true,
            '|' | '&' => depth == 0 && (spaced(prev) || prev == Some(c)),
            '#' => word.is_none(),
            _ => false,
        };
        if c == '#' && separator {
            break;
        }
        if separator || c.is_whitespace() {
            if let Some(w) = word.take() {
                out.last_mut().unwrap().push(w);
            }
            if separator && !out.last().unwrap().is_empty() {
                out.push(Vec::new());
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            // `packages=(a b)`: an array's words are the assignment's, not a command.
            '(' if prev == Some('=') => {
                quote = Some(')');
                continue;
            }
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            '$' if next == Some('(') => continue,
            _ => {}
        }
        if !matches!(c, '\'' | '"') {
            word.get_or_insert_default().push(c);
        }
    }
    if let Some(w) = word {
        out.last_mut().unwrap().push(w);
    }
    out.retain(|c| !c.is_empty());
    out
}

/// The program a command runs and the arguments it gives it, if it runs one of ours:
/// `gatehouse-server …`, `/usr/bin/gatehouse-gate …`, through `sudo`/`runuser`/`env` or a
/// doc's `alias`, or `cargo run -p gatehouse-gate -- …`.
fn invocation(
    words: &[String],
    aliases: &BTreeMap<String, Vec<String>>,
    names: &[&str],
) -> Option<(String, Vec<String>)> {
    let mut rest: &[String] = words;
    loop {
        let first = rest.first()?;
        if first == "$" || (first.contains('=') && !first.starts_with('-')) {
            rest = &rest[1..]; // a prompt, or `VAR=value`
        } else if ["sudo", "runuser", "env", "exec", "nohup"].contains(&first.as_str()) {
            rest = &rest[1..];
            while let Some(w) = rest.first().filter(|w| w.starts_with('-')) {
                let takes_value = ["-u", "-g", "--user", "--group"].contains(&w.as_str());
                rest = &rest[if takes_value { 2 } else { 1 }.min(rest.len())..];
                if w == "--" {
                    break;
                }
            }
        } else {
            break;
        }
    }
    let first = rest.first()?;
    if let Some(expansion) = aliases.get(first) {
        let mut words = expansion.clone();
        words.extend_from_slice(&rest[1..]);
        return invocation(&words, &BTreeMap::new(), names);
    }
    let base = first.rsplit('/').next().unwrap_or(first);
    if names.contains(&base) {
        return Some((base.to_owned(), rest[1..].to_vec()));
    }
    if base == "cargo" && rest.get(1).is_some_and(|w| w == "run") {
        let split = rest.iter().position(|w| w == "--").unwrap_or(rest.len());
        let cargo = &rest[..split];
        if cargo.iter().any(|w| w == "--example") {
            return None;
        }
        let program = cargo.windows(2).find_map(|pair| {
            (["-p", "--package", "--bin"].contains(&pair[0].as_str())
                && names.contains(&pair[1].as_str()))
            .then(|| pair[1].clone())
        })?;
        return Some((program, rest.get(split + 1..).unwrap_or_default().to_vec()));
    }
    None
}

/// What is wrong with the arguments `args` given to `program`, whose command line is `cli`.
fn check_args(program: &str, cli: &Cli, args: &[String], standalone: bool) -> Vec<String> {
    // Flags named on their own may belong to any of the program's commands.
    let mut at: Vec<(String, &Cli)> = if standalone {
        cli.all()
            .into_iter()
            .map(|c| (program.to_owned(), c))
            .collect()
    } else {
        vec![(program.to_owned(), cli)]
    };
    let mut wrong = Vec::new();
    let mut words = args.iter().enumerate();
    while let Some((i, word)) = words.next() {
        let word = word.trim_matches(['[', ']']);
        if word.is_empty() || word == "|" {
            continue; // `[A | B]`: alternatives in a synopsis
        }
        if word == "--" || word.starts_with('…') || word.starts_with("...") {
            break;
        }
        let mut names: Vec<&str> = at.iter().map(|(n, _)| n.as_str()).collect();
        names.dedup();
        let here = names.join("|");
        if word.starts_with('-') {
            let flag = word.split('=').next().unwrap_or(word);
            match at.iter().find_map(|(_, c)| c.flags.get(flag)) {
                None => {
                    wrong.push(format!("`{here}` has no flag `{flag}`"));
                    // What follows it may be its value: no finding of its own.
                    if args.get(i + 1).is_some_and(|next| {
                        !next.starts_with('-')
                            && !at
                                .iter()
                                .any(|(_, c)| c.commands.contains_key(next.as_str()))
                    }) {
                        words.next();
                    }
                }
                Some(true) if !word.contains('=') => {
                    words.next();
                }
                Some(_) => {}
            }
            continue;
        }
        let is_name = |w: &str| {
            w.starts_with(|c: char| c.is_ascii_lowercase())
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        };
        if at.iter().any(|(_, c)| !c.commands.is_empty()) && word.split('|').all(is_name) {
            let mut next = Vec::new();
            for name in word.split('|') {
                match at
                    .iter()
                    .find_map(|(n, c)| Some((n, c.commands.get(name)?)))
                {
                    Some((n, sub)) => next.push((format!("{n} {name}"), sub)),
                    None => wrong.push(format!("`{here}` has no subcommand `{name}`")),
                }
            }
            if next.is_empty() {
                break;
            }
            at = next;
        } else if !at.iter().any(|(_, c)| c.positional) {
            wrong.push(format!("`{here}` takes no argument `{word}`"));
        }
    }
    wrong
}

/// What is wrong in one doc: each finding with its place.
pub(crate) fn check_spans(spans: &[Span], programs: &BTreeMap<&str, Cli>) -> Vec<String> {
    let names: Vec<&str> = programs.keys().copied().collect();
    let ready_lines: Vec<&str> = Program::ALL.iter().map(|p| p.ready_prefix()).collect();
    let mut aliases: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut wrong = Vec::new();
    for span in spans {
        let text = span.text.trim();
        if ready_lines.iter().any(|r| text.starts_with(r.trim_end())) {
            continue; // a program's output, not a command
        }
        if span.inline && text.starts_with('-') {
            let flag = text.split([' ', '=']).next().unwrap_or(text);
            if let Some(program) = subject(&span.before, &names)
                && !CARGO_FLAGS.contains(&flag)
            {
                let args: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
                for w in check_args(program, &programs[program], &args, true) {
                    wrong.push(format!("{}: {w}", span.place));
                }
            }
            continue;
        }
        for words in commands(text) {
            if words[0] == "alias"
                && let Some((name, value)) = words.get(1).and_then(|w| w.split_once('='))
            {
                let value = value.split_whitespace().map(str::to_owned).collect();
                aliases.insert(name.to_owned(), value);
                continue;
            }
            // `keys retire OLD --force` in prose: a command of the one program that has it.
            let own_command = || {
                let owners: Vec<&str> = programs
                    .iter()
                    .filter(|(_, cli)| words[0] != "help" && cli.commands.contains_key(&words[0]))
                    .map(|(name, _)| *name)
                    .collect();
                (span.inline && owners.len() == 1).then(|| (owners[0].to_owned(), words.clone()))
            };
            if let Some((program, args)) = invocation(&words, &aliases, &names).or_else(own_command)
            {
                for w in check_args(&program, &programs[program.as_str()], &args, false) {
                    wrong.push(format!("{}: {w}", span.place));
                }
            }
        }
    }
    wrong
}

/// The program a paragraph is about at a point: the last of our programs or deploy scripts it
/// names before it, if that is a program.
fn subject<'a>(before: &str, names: &[&'a str]) -> Option<&'a str> {
    let last = before
        .split(|c: char| c.is_whitespace() || "`,;:()".contains(c))
        .rfind(|w| names.contains(w) || SCRIPTS.iter().any(|s| w.ends_with(s)))?;
    names.iter().copied().find(|n| *n == last)
}

/// The files to check: the product docs and every file under `deploy/`.
fn docs(root: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out: Vec<PathBuf> = [
        "README.md",
        "ARCHITECTURE.md",
        "BENCHMARKS.md",
        "server/README.md",
        "gate-controller/README.md",
        "gate-controller/BENCHMARKS.md",
        "kiosk/README.md",
        "credential/FORMAT.md",
        "tests/schemathesis/README.md",
    ]
    .iter()
    .map(|d| root.join(d))
    .collect();
    for entry in std::fs::read_dir(root.join("server/docs"))
        .unwrap()
        .flatten()
    {
        if entry.path().extension().is_some_and(|e| e == "md") {
            out.push(entry.path());
        }
    }
    walk(&root.join("deploy"), &mut out);
    out
}

/// The spans of one file, Markdown or not, named relative to `root`.
fn spans_of(root: &Path, path: &Path) -> Vec<Span> {
    let name = path
        .strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string();
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new(); // not text
    };
    if name.ends_with(".md") {
        markdown_spans(&name, &text)
    } else {
        file_spans(&name, &text)
    }
}

#[test]
fn every_flag_and_subcommand_the_docs_give_a_program_is_in_its_help() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut programs: BTreeMap<&str, Cli> = BTreeMap::new();
    for program in Program::ALL {
        let bin = programs::binary(program).expect("the program builds");
        programs.insert(program.binary(), help_tree(&bin, &[]));
    }
    // The demo has no `--help` to ask: it reads no argument, so the docs may give it none.
    let demo = std::fs::read_to_string(root.join("tests/src/bin/gatehouse-demo.rs")).unwrap();
    assert!(
        !demo.contains("env::args") && !demo.contains("Parser"),
        "gatehouse-demo reads its command line now: check the docs against its --help"
    );
    programs.insert(DEMO, Cli::default());
    assert!(
        programs["gatehouse-server"].commands["keys"].commands["retire"]
            .flags
            .contains_key("--force"),
        "the server's subcommands are read from their own --help"
    );

    let mut wrong = Vec::new();
    let mut seen = 0;
    for path in docs(&root) {
        let spans = spans_of(&root, &path);
        seen += spans.len();
        wrong.extend(check_spans(&spans, &programs));
    }
    assert!(seen > 500, "the docs have code in them: {seen} spans");
    assert!(
        wrong.is_empty(),
        "flags and subcommands the docs give a program that its --help does not list:\n{}",
        wrong.join("\n")
    );
}

/// The `--help` of a small program, in clap's layout, for the tests of the checker.
const HELP: &str = "\
Usage: tool [OPTIONS] [COMMAND]

Commands:
  backup  Copies the database
  help    Print this message or the help of the given subcommand(s)

Options:
      --config <CONFIG>
          TOML configuration file [env: TOOL_CONFIG=]
  -h, --help
          Print help
";

/// `tool backup --help`.
const BACKUP_HELP: &str = "\
Usage: tool backup [OPTIONS] --to <TO>

Options:
      --to <TO>      The backup file
      --force        Overwrite
  -h, --help         Print help
";

fn tool() -> BTreeMap<&'static str, Cli> {
    let mut cli = parse_help(HELP);
    cli.commands
        .insert("backup".into(), parse_help(BACKUP_HELP));
    BTreeMap::from([("gatehouse-server", cli)])
}

/// Checks a doc written to a temporary directory, as the test of the real docs does.
fn check_temp_doc(name: &str, text: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    check_spans(&spans_of(dir.path(), &path), &tool())
}

#[test]
fn the_flag_checker_names_the_doc_line_and_flag_of_a_wrong_flag() {
    let doc = "# Ops\n\nBack up:\n\n```sh\nsudo -u gatehouse gatehouse-server --config x.toml \
               backup --too /var/backups\n```\n";
    assert_eq!(
        check_temp_doc("OPS.md", doc),
        ["OPS.md:6: `gatehouse-server backup` has no flag `--too`"]
    );
    // The same line with the right flag is fine; a value that looks like a subcommand is the
    // flag's value.
    assert!(check_temp_doc("OPS.md", &doc.replace("--too", "--to")).is_empty());
    assert!(
        check_temp_doc("OPS.md", "`gatehouse-server --config backup backup --to x`").is_empty()
    );
}

#[test]
fn the_flag_checker_reads_subcommands_synopses_aliases_units_and_cargo_run() {
    let cases = [
        (
            "a.md",
            "`gatehouse-server restore --from F`",
            "has no subcommand `restore`",
        ),
        (
            "a.md",
            "`gatehouse-server [--config F | --data-dir D] backup --to DIR`",
            "has no flag `--data-dir`",
        ),
        (
            "a.md",
            "`gatehouse-server backup|restore`",
            "has no subcommand `restore`",
        ),
        (
            "a.md",
            "```\nalias gh='runuser -u gatehouse -- gatehouse-server --config c'\ngh backup --force --tx x\n```",
            "`gatehouse-server backup` has no flag `--tx`",
        ),
        (
            "a.md",
            "```\ncargo run -p gatehouse-server -- --listen 127.0.0.1:0\n```",
            "`gatehouse-server` has no flag `--listen`",
        ),
        (
            "systemd/x.service",
            "[Service]\nExecStart=+/usr/bin/gatehouse-server --confg /etc/x.toml\n",
            "`gatehouse-server` has no flag `--confg`",
        ),
        (
            "x.sh",
            "#!/bin/sh\nset -e\n\"$x\" && gatehouse-server backup --to a now\n",
            "`gatehouse-server backup` takes no argument `now`",
        ),
        (
            "a.md",
            "Then `backup --to x --force --keep 3`.",
            "`gatehouse-server backup` has no flag `--keep`",
        ),
        (
            "a.md",
            "Restore with `gatehouse-server backup`, which takes `--to FILE` and `--from FILE`.",
            "has no flag `--from`",
        ),
    ];
    for (name, doc, finding) in cases {
        let found = check_temp_doc(name, doc);
        assert!(
            found.len() == 1 && found[0].ends_with(finding),
            "{name}: {doc}\nexpected …{finding}, found {found:?}"
        );
    }
    // What is not given to the program: cargo's and the harness's flags, other commands that
    // name it, its ready line, a flag a paragraph gives a script, an elided rest.
    let fine = [
        "`cargo test -p gatehouse-server --test it -- --include-ignored`",
        "`journalctl -u gatehouse-server -f`, `sudo -u gatehouse-server tar -czf k.tgz keys`",
        "```\ngatehouse-server listening on http://127.0.0.1:8080\n```",
        "`gatehouse-server` is built with `--features rpi`; `install-pi.sh` takes `--role`.",
        "`gatehouse-server backup …`, `cargo run -p gatehouse-server --example load 8`",
    ];
    for doc in fine {
        assert_eq!(check_temp_doc("a.md", doc), Vec::<String>::new(), "{doc}");
    }
}
