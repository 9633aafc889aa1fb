//! The OTLP/gRPC side of the sink, so that exporters configured with
//! `OTEL_EXPORTER_OTLP_PROTOCOL=grpc` can be tested and used locally too.
//!
//! tonic's generated `TraceServiceServer` is served directly by hyper (HTTP/2 only), without
//! tonic's router: one service needs no routing, and that keeps axum out of the build.

use std::net::SocketAddr;
use std::thread::JoinHandle;

use anyhow::Context as _;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};

use crate::ingest::receive;
use crate::store::SpanStore;

struct Receiver {
    store: SpanStore,
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        Ok(tonic::Response::new(receive(
            &self.store,
            request.into_inner(),
        )))
    }
}

/// A running gRPC receiver; stops when dropped.
#[derive(Debug)]
pub struct GrpcReceiver {
    /// The address actually bound.
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl GrpcReceiver {
    /// Starts an OTLP/gRPC receiver on `bind` (port 0 allowed) on its own thread, storing into
    /// `store` — usually the `store` of an [`crate::OtlpSink`], so both protocols share it.
    pub fn start_in_background(bind: SocketAddr, store: SpanStore) -> anyhow::Result<Self> {
        let std_listener = std::net::TcpListener::bind(bind)
            .with_context(|| format!("otlp-sink: cannot bind gRPC {bind}"))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("otlp-sink-grpc".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(err) => return eprintln!("otlp-sink: gRPC runtime: {err}"),
                };
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(std_listener) {
                        Ok(l) => l,
                        Err(err) => return eprintln!("otlp-sink: gRPC listener: {err}"),
                    };
                    let service = TraceServiceServer::new(Receiver { store });
                    loop {
                        tokio::select! {
                            _ = &mut stop_rx => break,
                            accepted = listener.accept() => {
                                let Ok((stream, _)) = accepted else { continue };
                                let service = TowerToHyperService::new(service.clone());
                                tokio::spawn(async move {
                                    let _ = auto::Builder::new(TokioExecutor::new())
                                        .http2_only()
                                        .serve_connection(TokioIo::new(stream), service)
                                        .await;
                                });
                            }
                        }
                    }
                });
            })
            .context("otlp-sink: cannot spawn the gRPC thread")?;
        Ok(Self {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// `http://HOST:PORT`: the value for `OTEL_EXPORTER_OTLP_ENDPOINT` with protocol `grpc`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for GrpcReceiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
