//! The helpers hold the conventions they document: a test that needs an external dependency
//! must be marked for it, and settings reach an application only through its CLI's flags.

use clap::Parser;
use test_support::{InvalidVariables, Variables};

#[test]
#[should_panic(expected = "is not marked")]
fn an_unmarked_test_that_needs_redis_fails_even_before_looking_for_it() {
    test_support::redis_url();
}

#[tokio::test]
#[should_panic(expected = "is not marked")]
async fn an_unmarked_test_that_needs_postgres_fails_even_before_looking_for_it() {
    test_support::postgres_database().await;
}

#[test]
#[should_panic(expected = "is not marked")]
fn an_unmarked_test_that_needs_a_tool_fails_even_before_looking_for_it() {
    test_support::require(test_support::Dependency::Promtool);
}

/// A CLI like the services': every flag also reads a variable.
#[derive(Debug, Parser)]
#[command(name = "demo-service")]
struct Cli {
    #[arg(long, env = "DEMO_RATE", default_value = "20")]
    rate: String,
    #[arg(long, env = "DEMO_REDIS_URL")]
    redis_url: Option<String>,
    #[arg(long = "log-filter", env = "DEMO_LOG", default_value = "info")]
    log: String,
    /// A variable every process has.
    #[arg(long, env = "PATH")]
    search_path: Option<String>,
}

#[test]
fn variables_become_the_flags_that_read_them() {
    let mut variables = Variables::default();
    variables.set("DEMO_RATE", "5/s");
    variables.set("DEMO_LOG", "-debug");
    let cli: Cli = variables.parse().unwrap();
    assert_eq!(cli.rate, "5/s");
    assert_eq!(cli.log, "-debug", "a value may start with a dash");
    assert_eq!(cli.redis_url, None);

    variables.unset("DEMO_RATE");
    let cli: Cli = variables.parse().unwrap();
    assert_eq!(cli.rate, "20", "unset: the CLI's default");
}

#[test]
fn a_variable_no_flag_reads_is_an_error_naming_it() {
    let mut variables = Variables::default();
    variables.set("DEMO_RATE_LIMIT", "5");
    let err = variables.parse::<Cli>().unwrap_err();
    assert!(matches!(err, InvalidVariables::Unknown { .. }), "{err}");
    assert!(err.to_string().contains("DEMO_RATE_LIMIT"), "{err}");
}

#[test]
fn the_process_environment_is_not_read() {
    let cli: Cli = Variables::default().parse().unwrap();
    assert_eq!(
        cli.search_path, None,
        "a variable of the shell must not leak in"
    );
    let cli = Cli::try_parse_from(["demo-service"]).unwrap();
    assert!(cli.search_path.is_some(), "while production reads it");
}
