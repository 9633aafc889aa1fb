//! The one HTTP client every command shares, and URL helpers.
//!
//! Plain HTTP only: reqwest is built without TLS (the workspace's rule of one TLS stack or none),
//! so an `https://` URL is refused when parsed, with the way around it, rather than failing on
//! the first request.

use std::time::Duration;

use reqwest::header::{HeaderMap, ACCEPT, CONTENT_TYPE};
use reqwest::{Client, Method, StatusCode, Url};
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// How much of an unexpected answer goes into an error message.
const SNIPPET: usize = 300;

/// An answer read to the end.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn content_type(&self) -> &str {
        self.headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The body as JSON of type `T`, or an error naming `url`.
    pub fn json<T: DeserializeOwned>(&self, url: &Url) -> Result<T> {
        serde_json::from_str(&self.body).map_err(|e| Error::shape(url, e.to_string()))
    }

    /// An error for an answer whose status the caller did not expect.
    pub fn unexpected(&self, url: &Url) -> Error {
        Error::Status {
            url: url.to_string(),
            status: self.status.as_u16(),
            body: snippet(&self.body),
        }
    }
}

/// A cheap-to-clone HTTP client with a per-request timeout.
#[derive(Clone, Debug)]
pub struct Http {
    client: Client,
}

impl Http {
    pub fn new(timeout: Duration) -> Result<Http> {
        let client = Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("storectl/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| Error::Unreachable {
                url: "(building the HTTP client)".to_owned(),
                source,
            })?;
        Ok(Http { client })
    }

    /// The underlying client, for requests this module has no helper for.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// `GET url`, read to the end, whatever the status.
    pub async fn get(&self, url: &Url, accept: Option<&str>) -> Result<Answer> {
        let mut request = self.client.get(url.clone());
        if let Some(accept) = accept {
            request = request.header(ACCEPT, accept);
        }
        read(url, request.send().await).await
    }

    /// `GET url` expecting 200 and JSON of type `T`.
    pub async fn get_json<T: DeserializeOwned>(&self, url: &Url) -> Result<T> {
        let answer = self.get(url, Some("application/json")).await?;
        if answer.status != StatusCode::OK {
            return Err(answer.unexpected(url));
        }
        answer.json(url)
    }

    /// `method url` with a JSON body and optional bearer token, read to the end.
    pub async fn send_json(
        &self,
        method: Method,
        url: &Url,
        bearer: Option<&str>,
        body: &serde_json::Value,
    ) -> Result<Answer> {
        let mut request = self.client.request(method, url.clone()).json(body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        read(url, request.send().await).await
    }
}

async fn read(url: &Url, sent: reqwest::Result<reqwest::Response>) -> Result<Answer> {
    let unreachable = |source| Error::Unreachable {
        url: url.to_string(),
        source,
    };
    let response = sent.map_err(unreachable)?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.map_err(unreachable)?;
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// The first characters of `body`, on one line.
pub fn snippet(body: &str) -> String {
    let one_line: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match one_line.char_indices().nth(SNIPPET) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

/// An `http://` base URL given on the command line.
pub fn parse_base_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    match url.scheme() {
        "http" => {}
        "https" => {
            return Err(format!(
                "{text}: storectl speaks plain HTTP only (built without TLS); reach the service \
                 through `kubectl port-forward` or another local proxy and pass its http:// URL"
            ))
        }
        other => return Err(format!("{text}: scheme {other:?} is not http")),
    }
    if url.host_str().is_none() {
        return Err(format!("{text}: no host"));
    }
    Ok(url)
}

/// `base` joined with an absolute `path` (a base URL's own path prefix is kept, so a Prometheus
/// behind `http://host/prometheus` works).
pub fn endpoint(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/');
    url.set_path(&format!("{prefix}{path}"));
    url.set_query(None);
    url
}

/// [`endpoint`] with query parameters, each percent-encoded.
pub fn endpoint_with_query(base: &Url, path: &str, query: &[(&str, &str)]) -> Url {
    let mut url = endpoint(base, path);
    url.query_pairs_mut().extend_pairs(query);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_plain_http_with_a_host() {
        assert!(parse_base_url("http://127.0.0.1:9090").is_ok());
        assert!(parse_base_url("https://prometheus.example.com")
            .unwrap_err()
            .contains("port-forward"));
        assert!(parse_base_url("ftp://x").is_err());
        assert!(parse_base_url("not a url").is_err());
    }

    #[test]
    fn endpoints_keep_a_path_prefix_and_encode_the_query() {
        let base = parse_base_url("http://host:9090/prometheus/").unwrap();
        assert_eq!(
            endpoint(&base, "/api/v1/targets").as_str(),
            "http://host:9090/prometheus/api/v1/targets"
        );
        let url = endpoint_with_query(
            &parse_base_url("http://host:9090").unwrap(),
            "/api/v1/query_exemplars",
            &[("query", "m_bucket{a=\"b c\"}")],
        );
        assert_eq!(
            url.as_str(),
            "http://host:9090/api/v1/query_exemplars?query=m_bucket%7Ba%3D%22b+c%22%7D"
        );
    }

    #[test]
    fn snippets_are_short_and_on_one_line() {
        assert_eq!(snippet("a\nb"), "a b");
        let long = "x".repeat(1000);
        assert_eq!(snippet(&long).chars().count(), SNIPPET + 1);
    }
}
