//! Every program's settings, read from its clap definition (`clap::CommandFactory`): the flag,
//! the environment variable it also reads, the default, the meaning (the flag's doc comment)
//! and the possible values — what `--help` prints, as data.

use clap::{Arg, ArgAction, Command, CommandFactory};

/// `cargo xtask`'s flags, compiled from the very file xtask compiles. xtask is a binary whose
/// dependency graph must stay tiny (no workspace crate but devstack), so it cannot hand its
/// command line to a library; `flags.rs` needs nothing but clap, so it is compiled here a
/// second time.
#[allow(dead_code)] // xtask reads the fields; here only the definitions matter
#[path = "../../../xtask/src/flags.rs"]
mod xtask_flags;

/// What a program is for the reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A WebStore service: a long-running process configured by its environment.
    Service,
    /// A developer tool: the development OTLP receiver, `cargo xtask …`.
    Tool,
}

/// One program (or `cargo xtask` subcommand) and its settings, in definition order.
#[derive(Clone, Debug)]
pub struct Program {
    /// As typed: `order-service`, `cargo xtask test`.
    pub name: String,
    pub kind: Kind,
    /// The first paragraph of its `--help`.
    pub about: String,
    pub settings: Vec<Setting>,
}

/// One flag (or positional argument) of a program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    /// `--payment-timeout`, or `<RUNNER_ARGS>` for a positional argument.
    pub flag: String,
    /// The placeholder in `--help` (`PAYMENT_TIMEOUT`); `None` for a switch.
    pub value_name: Option<String>,
    /// The environment variable the flag also reads.
    pub env: Option<String>,
    /// The default as clap applies it; `None` when there is none (the program may still
    /// compute one: the meaning says so).
    pub default: Option<String>,
    /// The default exists but `--help` hides it (a development secret).
    pub default_hidden: bool,
    /// The flag's documentation, paragraphs joined by a space.
    pub meaning: String,
    /// The values clap accepts, when it knows them.
    pub possible_values: Vec<String>,
}

impl Program {
    /// The environment variables of this program's settings.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.settings.iter().filter_map(|s| s.env.as_deref())
    }
}

/// Every program people run, services first, then tools; each group by name.
pub fn all() -> Vec<Program> {
    let mut programs = vec![
        program(Kind::Service, order_service::config::Cli::command()),
        program(Kind::Service, catalog_service::config::Cli::command()),
        program(Kind::Service, payment_gateway::config::Cli::command()),
        program(Kind::Tool, otlp_sink::Cli::command()),
    ];
    let storectl = storectl::cli::Cli::command();
    for sub in storectl.get_subcommands() {
        let mut p = program(Kind::Tool, sub.clone());
        p.name = format!("{} {}", storectl.get_name(), sub.get_name());
        programs.push(p);
    }
    let xtask = xtask_flags::Xtask::command();
    let xtask_name = xtask.get_name().to_owned();
    for sub in xtask.get_subcommands() {
        let mut p = program(Kind::Tool, sub.clone());
        p.name = format!("{xtask_name} {}", sub.get_name());
        programs.push(p);
    }
    programs.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    programs
}

/// `cargo xtask`'s subcommands with their long flags (`--quick`), for checking commands named
/// in the docs.
///
/// `cargo xtask traffic | exemplars | doctor` hand every argument to the `storectl` subcommand
/// of the same name, so their flags are storectl's.
pub fn xtask_subcommands() -> Vec<(String, Vec<String>)> {
    let storectl = storectl::cli::Cli::command();
    xtask_flags::Xtask::command()
        .get_subcommands()
        .map(|sub| {
            let definition = storectl.find_subcommand(sub.get_name()).unwrap_or(sub);
            let flags = definition
                .get_arguments()
                .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
                .chain(["--help".to_owned()])
                .collect();
            (sub.get_name().to_owned(), flags)
        })
        .collect()
}

fn program(kind: Kind, mut command: Command) -> Program {
    // Resolves flattened groups and derived names, as parsing would.
    command.build();
    Program {
        name: command.get_name().to_owned(),
        kind,
        about: command
            .get_about()
            .map(|a| first_paragraph(&a.to_string()))
            .unwrap_or_default(),
        settings: command
            .get_arguments()
            .filter(|a| !is_builtin(a) && !a.is_hide_set())
            .map(setting)
            .collect(),
    }
}

/// `--help` and `--version`, which clap adds to every command.
fn is_builtin(arg: &Arg) -> bool {
    matches!(
        arg.get_action(),
        ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong | ArgAction::Version
    )
}

fn setting(arg: &Arg) -> Setting {
    let takes_value = arg.get_action().takes_values();
    let value_name = takes_value.then(|| {
        arg.get_value_names()
            .and_then(|names| names.first())
            .map(|n| n.to_string())
            .unwrap_or_else(|| arg.get_id().as_str().to_uppercase())
    });
    let flag = match arg.get_long() {
        Some(long) => format!("--{long}"),
        None => format!("<{}>", value_name.clone().unwrap_or_default()),
    };
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    // A switch defaults to "false"; that says nothing a reader needs.
    let default = (takes_value && !defaults.is_empty()).then(|| defaults.join(","));
    let meaning = arg
        .get_long_help()
        .or_else(|| arg.get_help())
        .map(|h| h.to_string())
        .unwrap_or_default();
    Setting {
        flag,
        value_name: value_name.filter(|_| arg.get_long().is_some()),
        env: arg.get_env().map(|e| e.to_string_lossy().into_owned()),
        default_hidden: default.is_some() && arg.is_hide_default_value_set(),
        default,
        meaning: join_paragraphs(&meaning),
        possible_values: arg
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| v.get_name().to_owned())
            .collect(),
    }
}

fn first_paragraph(text: &str) -> String {
    join_paragraphs(text.split("\n\n").next().unwrap_or_default())
}

/// Doc comments arrive with their line breaks; a table cell is one line.
fn join_paragraphs(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'a>(programs: &'a [Program], name: &str) -> &'a Program {
        programs
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no program {name}"))
    }

    #[test]
    fn every_program_people_run_is_described() {
        let programs = all();
        let names: Vec<&str> = programs.iter().map(|p| p.name.as_str()).collect();
        for expected in [
            "catalog-service",
            "order-service",
            "payment-gateway",
            "otlp-sink",
            "cargo xtask test",
            "cargo xtask up",
        ] {
            assert!(
                names.contains(&expected),
                "{expected} missing from {names:?}"
            );
        }
        let first_tool = names
            .iter()
            .position(|n| *n == "cargo xtask bench")
            .unwrap();
        assert!(
            programs[..first_tool]
                .iter()
                .all(|p| p.kind == Kind::Service),
            "services first: {names:?}"
        );
    }

    #[test]
    fn settings_carry_flag_variable_default_and_meaning() {
        let programs = all();
        let order = find(&programs, "order-service");
        let timeout = order
            .settings
            .iter()
            .find(|s| s.env.as_deref() == Some("PAYMENT_TIMEOUT"))
            .expect("PAYMENT_TIMEOUT");
        assert_eq!(timeout.flag, "--payment-timeout");
        assert_eq!(timeout.default.as_deref(), Some("10s"));
        assert!(timeout.meaning.contains("payment_unknown"), "{timeout:?}");

        // Flattened groups are included: telemetry and server settings.
        let vars: Vec<&str> = order.variables().collect();
        for v in ["OTEL_SERVICE_NAME", "BIND_ADDR", "DATABASE_URL", "RUST_LOG"] {
            assert!(vars.contains(&v), "{v} missing: {vars:?}");
        }
        assert!(
            !order.settings.iter().any(|s| s.flag == "--help"),
            "clap's own flags are left out"
        );

        let keys = order
            .settings
            .iter()
            .find(|s| s.env.as_deref() == Some("API_KEYS"))
            .unwrap();
        assert!(keys.default_hidden, "hidden in --help, hidden here");

        let test = find(&programs, "cargo xtask test");
        let runner = test.settings.iter().find(|s| s.flag == "<RUNNER_ARGS>");
        assert!(runner.is_some(), "positional arguments too: {test:?}");
        let no_lint = test
            .settings
            .iter()
            .find(|s| s.flag == "--no-lint")
            .unwrap();
        assert_eq!(
            (no_lint.default.as_deref(), &no_lint.value_name),
            (None, &None)
        );
    }

    #[test]
    fn xtask_subcommands_with_their_flags() {
        let subs = xtask_subcommands();
        let bench = subs.iter().find(|(name, _)| name == "bench").unwrap();
        assert!(bench.1.contains(&"--quick".to_owned()), "{bench:?}");
    }
}
