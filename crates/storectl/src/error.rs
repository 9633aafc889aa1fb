//! One error type for the library; each variant says which URL or input failed and why.

use std::path::PathBuf;

/// What went wrong talking to the store, Prometheus or a trace backend, or reading an input.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot reach {url}: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },

    #[error("{url} answered HTTP {status}: {body}")]
    Status {
        url: String,
        status: u16,
        /// The start of the answer, for the message.
        body: String,
    },

    #[error("{url} did not answer JSON of the expected shape: {reason}")]
    Shape { url: String, reason: String },

    #[error("Prometheus refused {url}: {error_type}: {error}")]
    Prometheus {
        url: String,
        error_type: String,
        error: String,
    },

    #[error("the payment gateway's fault API is not there ({url} answered 404): it exists only when the gateway runs with ADMIN_TOKEN set (`cargo xtask up` and infra/compose.yaml set `dev-admin-token`)")]
    FaultApiMissing { url: String },

    #[error("the payment gateway refused the admin token ({url} answered {status}): pass the gateway's ADMIN_TOKEN with --admin-token or the ADMIN_TOKEN variable")]
    FaultApiRefused { url: String, status: u16 },

    #[error("the catalog at {url} lists no products: there is nothing to put in a basket")]
    EmptyCatalog { url: String },

    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path} is not the YAML expected: {reason}")]
    Yaml { path: PathBuf, reason: String },

    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn shape(url: &reqwest::Url, reason: impl Into<String>) -> Self {
        Error::Shape {
            url: url.to_string(),
            reason: reason.into(),
        }
    }
}
