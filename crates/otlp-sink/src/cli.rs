//! The `otlp-sink` binary's command line, in the library so that the generated configuration
//! reference (`cargo xtask docs`) reads the same definition the binary parses.

use std::net::SocketAddr;

use clap::Parser;

use crate::store::DEFAULT_MAX_SPANS;

/// Development OTLP trace receiver: keeps spans in memory and shows them as text waterfalls.
/// No auth, no persistence. OTLP/HTTP (protobuf) always, OTLP/gRPC with --grpc-bind.
/// NOT for production.
#[derive(Debug, Parser)]
#[command(name = "otlp-sink", version)]
pub struct Cli {
    /// Address to listen on (4318 is the standard OTLP/HTTP port).
    #[arg(long, env = "OTLP_SINK_BIND", default_value = "127.0.0.1:4318")]
    pub bind: SocketAddr,

    /// Also receive OTLP/gRPC on this address (4317 is the standard port); off when unset.
    #[arg(long, env = "OTLP_SINK_GRPC_BIND")]
    pub grpc_bind: Option<SocketAddr>,

    /// Most spans kept in memory; the oldest received are evicted first.
    #[arg(long, env = "OTLP_SINK_MAX_SPANS", default_value_t = DEFAULT_MAX_SPANS,
          value_parser = parse_max_spans)]
    pub max_spans: usize,

    /// Accept and count spans but keep none, so the trace browser and API stay empty. For load
    /// tests (`cargo xtask bench`): the receiver's own CPU then stays small.
    #[arg(long, env = "OTLP_SINK_DISCARD")]
    pub discard: bool,
}

fn parse_max_spans(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(err) => Err(err.to_string()),
    }
}
