//! [`Variables`]: an application under test is configured the way a deployment is, through the
//! variables its `--help` lists, parsed by the service's own `clap` CLI.

use std::collections::{BTreeMap, HashMap};

use clap::{CommandFactory, FromArgMatches};

/// A test's settings for one application, by variable name (`RATE_LIMIT_CLIENT` → `5/s`).
///
/// [`Variables::parse`] hands each to the service's CLI as the flag that reads that variable, so
/// the values meet the same parsing and validation (`Settings::from_cli`) as in production. The
/// process environment is not read: a developer's own `DATABASE_URL` or `RUST_LOG` cannot leak
/// into a test.
#[derive(Debug, Clone, Default)]
pub struct Variables(BTreeMap<String, String>);

/// A variable the CLI has no flag for, or a value it refuses.
#[derive(Debug, thiserror::Error)]
pub enum InvalidVariables {
    #[error("no flag of {program} reads {variable} (see `{program} --help`)")]
    Unknown { program: String, variable: String },
    #[error(transparent)]
    Cli(#[from] clap::Error),
}

impl Variables {
    /// Sets `variable` (replacing an earlier value).
    pub fn set(&mut self, variable: impl Into<String>, value: impl Into<String>) {
        self.0.insert(variable.into(), value.into());
    }

    /// Unsets `variable`: the CLI's default applies.
    pub fn unset(&mut self, variable: &str) {
        self.0.remove(variable);
    }

    pub fn get(&self, variable: &str) -> Option<&str> {
        self.0.get(variable).map(String::as_str)
    }

    /// The CLI `C` parsed from these variables alone.
    pub fn parse<C: CommandFactory + FromArgMatches>(&self) -> Result<C, InvalidVariables> {
        let command = C::command();
        let program = command.get_name().to_owned();
        let flags: HashMap<String, String> = command
            .get_arguments()
            .filter_map(|arg| {
                let variable = arg.get_env()?.to_str()?.to_owned();
                Some((variable, arg.get_long()?.to_owned()))
            })
            .collect();
        let mut argv = vec![program.clone()];
        for (variable, value) in &self.0 {
            let flag = flags
                .get(variable)
                .ok_or_else(|| InvalidVariables::Unknown {
                    program: program.clone(),
                    variable: variable.clone(),
                })?;
            argv.push(format!("--{flag}={value}"));
        }
        // Without their `env`, the arguments read only this command line.
        let command = command.mut_args(|arg| arg.env(None::<&str>));
        let matches = command.try_get_matches_from(argv)?;
        Ok(C::from_arg_matches(&matches)?)
    }
}
