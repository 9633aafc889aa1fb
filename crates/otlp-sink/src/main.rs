//! `otlp-sink` binary: a development OTLP trace receiver (HTTP, and gRPC on request). Not for production.
//!
//! Thin on purpose: parse flags ([`otlp_sink::Cli`]), start [`otlp_sink::OtlpSink`], print
//! where it listens, stop on Ctrl-C or SIGTERM.

use anyhow::Context as _;
use clap::Parser;
use otlp_sink::{Cli, GrpcReceiver, OtlpSink, SpanStore};

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let store = if cli.discard {
        SpanStore::discarding()
    } else {
        SpanStore::with_max_spans(cli.max_spans)
    };
    let sink = OtlpSink::start_with_store(cli.bind, store)
        .await
        .context("starting otlp-sink (is another receiver already on this port?)")?;
    let grpc = cli
        .grpc_bind
        .map(|bind| GrpcReceiver::start_in_background(bind, sink.store.clone()))
        .transpose()?;
    let base = sink.base_url();
    eprintln!("otlp-sink: development OTLP receiver — in-memory, no auth, NOT for production");
    eprintln!(
        "  OTLP/HTTP traces  {}  (protobuf only)",
        sink.traces_endpoint()
    );
    eprintln!("  exporter env      OTEL_EXPORTER_OTLP_ENDPOINT={base} OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf");
    if let Some(grpc) = &grpc {
        eprintln!(
            "  OTLP/gRPC traces  {}  (OTEL_EXPORTER_OTLP_PROTOCOL=grpc)",
            grpc.endpoint()
        );
    }
    eprintln!("  trace browser     {base}/");
    eprintln!("  JSON API          {base}/api/traces  (trace by id, as Tempo answers it:)");
    eprintln!(
        "                    {base}/api/traces/{{trace_id}}  {base}/api/v2/traces/{{trace_id}}"
    );
    eprintln!("  health            {base}/healthz");
    if cli.discard {
        eprintln!("  discarding every span (--discard): counted, not kept; Ctrl-C to stop");
    } else {
        eprintln!("  keeping at most {} spans; Ctrl-C to stop", cli.max_spans);
    }

    shutdown_signal().await?;
    eprintln!(
        "otlp-sink: stopping ({} spans received, {} held)",
        sink.store.received(),
        sink.store.span_count()
    );
    drop(grpc);
    sink.stop().await;
    Ok(())
}

/// Resolves on Ctrl-C, or on SIGTERM (what `cargo xtask down` and container runtimes send).
async fn shutdown_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result.context("waiting for Ctrl-C")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    Ok(())
}
