//! Grafana: the Explore link that opens a trace, and the data-source provisioning that makes an
//! exemplar dot open it.

use std::path::Path;

use reqwest::Url;
use serde_json::json;

use crate::error::{Error, Result};
use crate::http::endpoint;
use crate::trace::TraceId;

/// Grafana Explore (10 and later: the `panes` parameter) showing `trace_id` from the Tempo data
/// source `tempo_uid`, over the hour around `at` (Unix seconds) so Tempo searches the right blocks.
pub fn explore_url(grafana: &Url, tempo_uid: &str, trace_id: &TraceId, at: f64) -> String {
    let at_ms = (at * 1000.0) as i64;
    let panes = json!({
        "trace": {
            "datasource": tempo_uid,
            "queries": [{
                "refId": "A",
                "datasource": {"type": "tempo", "uid": tempo_uid},
                "queryType": "traceql",
                "query": trace_id.as_str(),
            }],
            "range": {
                "from": (at_ms - 3_600_000).to_string(),
                "to": (at_ms + 3_600_000).to_string(),
            },
        }
    });
    let mut url = endpoint(grafana, "/explore");
    url.query_pairs_mut()
        .append_pair("schemaVersion", "1")
        .append_pair("orgId", "1")
        .append_pair("panes", &panes.to_string());
    url.to_string()
}

/// One data source of a provisioning file, as far as the exemplar link is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataSource {
    pub name: String,
    pub kind: String,
    pub uid: String,
    /// `jsonData.exemplarTraceIdDestinations`: (exemplar label name, target data source uid).
    pub exemplar_links: Vec<(String, Option<String>)>,
}

/// The data sources of a Grafana provisioning file.
pub fn read_datasources(path: &Path) -> Result<Vec<DataSource>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_datasources(&text).map_err(|reason| Error::Yaml {
        path: path.to_path_buf(),
        reason,
    })
}

pub fn parse_datasources(text: &str) -> Result<Vec<DataSource>, String> {
    let doc: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
    let list = doc
        .get("datasources")
        .and_then(serde_yaml::Value::as_sequence)
        .ok_or("no `datasources:` list")?;
    let text_of = |v: &serde_yaml::Value, key: &str| {
        v.get(key)
            .and_then(serde_yaml::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Ok(list
        .iter()
        .map(|ds| DataSource {
            name: text_of(ds, "name"),
            kind: text_of(ds, "type"),
            uid: text_of(ds, "uid"),
            exemplar_links: ds
                .get("jsonData")
                .and_then(|j| j.get("exemplarTraceIdDestinations"))
                .and_then(serde_yaml::Value::as_sequence)
                .into_iter()
                .flatten()
                .map(|d| {
                    let uid = d
                        .get("datasourceUid")
                        .and_then(serde_yaml::Value::as_str)
                        .map(str::to_owned);
                    (text_of(d, "name"), uid)
                })
                .collect(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explore_links_carry_the_trace_and_the_data_source() {
        let grafana = Url::parse("http://localhost:3000").unwrap();
        let id = TraceId::parse_hex("0af7651916cd43dd8448eb211c80319c").unwrap();
        let url = Url::parse(&explore_url(&grafana, "tempo", &id, 1_750_000_000.0)).unwrap();
        assert_eq!(url.path(), "/explore");
        let panes = url
            .query_pairs()
            .find(|(k, _)| k == "panes")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        let panes: serde_json::Value = serde_json::from_str(&panes).unwrap();
        let query = &panes["trace"]["queries"][0];
        assert_eq!(query["query"], id.as_str());
        assert_eq!(query["datasource"]["uid"], "tempo");
        assert_eq!(panes["trace"]["range"]["from"], "1749996400000");
    }

    #[test]
    fn provisioning_lists_exemplar_destinations() {
        let yaml = r#"
apiVersion: 1
datasources:
  - name: Prometheus
    uid: prometheus
    type: prometheus
    jsonData:
      exemplarTraceIdDestinations:
        - name: trace_id
          datasourceUid: tempo
        - name: traceID
          url: http://elsewhere/${__value.raw}
  - name: Tempo
    uid: tempo
    type: tempo
"#;
        let sources = parse_datasources(yaml).unwrap();
        assert_eq!(sources.len(), 2);
        assert_eq!(
            sources[0].exemplar_links,
            [
                ("trace_id".to_owned(), Some("tempo".to_owned())),
                ("traceID".to_owned(), None)
            ]
        );
        assert_eq!(sources[1].kind, "tempo");
        assert!(parse_datasources("nothing: here").is_err());
    }
}
