//! `infra/docker/service.Dockerfile`: the one image recipe of the three services.

use crate::support::{dockerfile, dockerfile_instructions, infra};

#[test]
fn service_dockerfile_is_multi_stage_non_root_with_a_healthz_healthcheck() {
    let (_, text) = dockerfile();
    let instrs = dockerfile_instructions(&text);
    let froms = instrs.iter().filter(|i| i.starts_with("FROM ")).count();
    assert!(froms >= 2, "multi-stage: at least two FROM, found {froms}");
    assert!(
        instrs
            .iter()
            .any(|i| i.contains("cargo build --release") && i.contains("--bin")),
        "the build stage runs `cargo build --release --bin <service>`"
    );
    let runtime_start = instrs.iter().rposition(|i| i.starts_with("FROM ")).unwrap();
    let runtime = &instrs[runtime_start..];
    let user = runtime
        .iter()
        .filter_map(|i| i.strip_prefix("USER "))
        .next_back()
        .expect("the runtime stage sets USER");
    let uid = user.split(':').next().unwrap();
    assert!(
        uid != "0" && uid != "root",
        "the runtime user is not root: {user}"
    );
    let health = runtime
        .iter()
        .find(|i| i.starts_with("HEALTHCHECK"))
        .expect("a HEALTHCHECK");
    assert!(
        health.contains("/healthz"),
        "HEALTHCHECK probes /healthz: {health}"
    );
    let tool = if health.contains("curl") {
        "curl"
    } else {
        "wget"
    };
    assert!(
        runtime
            .iter()
            .any(|i| i.contains("apt-get install") && i.contains(tool)),
        "the runtime image installs {tool}, which the HEALTHCHECK runs"
    );
    assert!(
        runtime.iter().any(|i| i.starts_with("EXPOSE")),
        "EXPOSE the service port"
    );
    let ignore = infra("docker/service.Dockerfile.dockerignore");
    let ignored = std::fs::read_to_string(&ignore).expect("the Dockerfile's .dockerignore");
    assert!(
        ignored.lines().any(|l| l.trim() == "target/"),
        "target/ stays out of the build context"
    );
}
