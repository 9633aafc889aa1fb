//! Every file of the stack: it parses, pins its images, and names only paths that exist.

use std::path::Path;

use infra_tests::files::{files_with_extensions, read_json, rel, yaml_documents};
use serde_yaml::Value as Yaml;

use crate::support::{
    compose, dockerfile, dockerfile_instructions, infra, pinned, root, workspace_version,
};

#[test]
fn every_yaml_and_json_file_parses() {
    let mut count = 0;
    let mut problems = Vec::new();
    for file in files_with_extensions(&root().join("infra"), &["yaml", "yml"]).unwrap() {
        let text = std::fs::read_to_string(&file).unwrap();
        match yaml_documents(&text) {
            Ok(docs) if !docs.is_empty() => count += 1,
            Ok(_) => problems.push(format!("{}: empty", rel(&file))),
            Err(e) => problems.push(format!("{}: {e}", rel(&file))),
        }
    }
    for file in files_with_extensions(&root().join("dashboards"), &["json"]).unwrap() {
        match read_json(&file) {
            Ok(_) => count += 1,
            Err(e) => problems.push(format!("{e:#}")),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        count >= 20,
        "expected the whole stack, parsed only {count} files"
    );
    eprintln!("{count} YAML/JSON files parse");
}

#[test]
fn every_image_is_pinned_to_an_exact_version() {
    let mut images = Vec::new();
    let compose = compose();
    for (name, service) in compose["services"].as_mapping().unwrap() {
        let name = name.as_str().unwrap();
        if let Some(image) = service.get("image").and_then(Yaml::as_str) {
            images.push((format!("compose {name}"), image.to_owned()));
        }
        if service.get("build").is_some() {
            assert_eq!(
                service.get("image").and_then(Yaml::as_str),
                Some(format!("webstore/{name}:{}", workspace_version()).as_str()),
                "compose {name}: a built image is tagged webstore/<service>:<workspace version>"
            );
        }
    }
    let (path, text) = dockerfile();
    for instr in dockerfile_instructions(&text) {
        if let Some(rest) = instr.strip_prefix("FROM ") {
            let image = rest.split_whitespace().next().unwrap();
            images.push((rel(&path), image.to_owned()));
        }
    }
    for file in files_with_extensions(&infra("k8s"), &["yaml", "yml"]).unwrap() {
        let text = std::fs::read_to_string(&file).unwrap();
        for line in text.lines() {
            if let Some(image) = line.trim().strip_prefix("image: ") {
                images.push((rel(&file), image.trim().to_owned()));
            }
        }
    }
    let problems: Vec<String> = images
        .iter()
        .filter_map(|(w, i)| pinned(i).err().map(|e| format!("{w}: {e}")))
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        images.len() >= 12,
        "found only {} image references",
        images.len()
    );
    eprintln!("{} image references, all pinned", images.len());
}

#[test]
fn image_pin_check_rejects_floating_tags() {
    for bad in [
        "postgres",
        "postgres:latest",
        "postgres:16",
        "grafana/grafana:11",
        "x:v3",
    ] {
        assert!(pinned(bad).is_err(), "{bad} must be rejected");
    }
    for good in [
        "postgres:16.4",
        "prom/prometheus:v3.5.0",
        "rust:1.95.0-bookworm",
        "debian:12.11-slim",
    ] {
        assert!(pinned(good).is_ok(), "{good} must be accepted");
    }
}

#[test]
fn no_file_refers_to_a_missing_repository_path() {
    // Paths the stack's files name in comments and settings, relative to the repository.
    let root = root();
    let mut problems = Vec::new();
    for file in
        files_with_extensions(&root.join("infra"), &["yaml", "yml", "txt", "Dockerfile"]).unwrap()
    {
        let text = std::fs::read_to_string(&file).unwrap();
        for word in text.split(|c: char| c.is_whitespace() || "()`\"',;".contains(c)) {
            let word = word.trim_end_matches(['.', ':']);
            let is_repo_path = ["infra/", "dashboards/", "docs/", "tests/"]
                .iter()
                .any(|p| word.starts_with(p))
                && !word.contains('*')
                && !word.contains('<')
                && !word.contains('#');
            if is_repo_path && !root.join(word).exists() && !Path::new(word).is_absolute() {
                problems.push(format!(
                    "{}: names {word}, which does not exist",
                    rel(&file)
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
