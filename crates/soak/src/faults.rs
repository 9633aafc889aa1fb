//! Injecting each fault of the schedule, and taking it back; every action times its own window.

use std::time::Instant;

use anyhow::{Context, Result};
use devstack::services::{CATALOG, GATEWAY, ORDER};
use storectl::traffic::{FaultApi, FaultsPatch};
use tokio::runtime::Handle;

use crate::databases::Databases;
use crate::schedule::Fault;
use crate::stack::Stack;
use crate::watch::SpanTally;

/// Past PAYMENT_TIMEOUT (3 s): every charge of the window ends `payment_unknown` for the store.
const SLOW_CHARGE_MS: u64 = 5_000;
const ERROR_RATE: f64 = 0.3;
const TIMEOUT_RATE: f64 = 0.3;

/// What the injector acts on.
pub struct Injector<'a> {
    pub stack: &'a mut Stack,
    pub rt: &'a Handle,
    pub databases: &'a Databases,
    pub fault_api: FaultApi,
    pub spans: &'a mut SpanTally,
    pub http: reqwest::Client,
}

impl Injector<'_> {
    /// Starts `fault` (for a fault without a hold, the whole of it: act and recover); a note for
    /// the table.
    pub fn begin(&mut self, fault: Fault) -> Result<String> {
        match fault {
            Fault::CollectorDown => Ok(format!(
                "otlp-sink stopped ({})",
                stopped(self.stack.stop_sink())
            )),
            Fault::RedisRestart => Ok(format!(
                "redis-server stopped ({})",
                stopped(self.stack.stop_redis())
            )),
            Fault::PostgresTerminate => {
                let n = self
                    .rt
                    .block_on(self.databases.terminate_order_backends())?;
                Ok(format!("{n} backends of the order database terminated"))
            }
            Fault::GatewayLatency => self.faults(FaultsPatch {
                latency_ms: Some(SLOW_CHARGE_MS),
                ..FaultsPatch::default()
            }),
            Fault::GatewayErrors => self.faults(FaultsPatch {
                error_rate: Some(ERROR_RATE),
                ..FaultsPatch::default()
            }),
            Fault::GatewayTimeouts => self.faults(FaultsPatch {
                timeout_rate: Some(TIMEOUT_RATE),
                ..FaultsPatch::default()
            }),
            Fault::OrderSigterm => {
                self.scrape_spans(&[ORDER]);
                let stopping = Instant::now();
                let outcome = stopped(self.stack.stop_order());
                let stop_took = stopping.elapsed();
                let ready = self.stack.start_order(&[])?;
                Ok(format!(
                    "SIGTERM: {outcome} after {:.1} s; ready again after {:.1} s",
                    stop_took.as_secs_f64(),
                    ready.as_secs_f64()
                ))
            }
            Fault::OrderKill => {
                self.scrape_spans(&[ORDER]);
                self.stack.kill_order()?;
                let ready = self.stack.start_order(&[])?;
                Ok(format!(
                    "SIGKILL; ready again after {:.1} s",
                    ready.as_secs_f64()
                ))
            }
        }
    }

    /// Takes `fault` back (nothing to do for a fault without a hold).
    pub fn end(&mut self, fault: Fault) -> Result<String> {
        match fault {
            Fault::CollectorDown => {
                self.stack.start_sink()?;
                Ok("otlp-sink started again".to_owned())
            }
            Fault::RedisRestart => {
                self.stack.start_redis()?;
                Ok("redis-server started again (empty)".to_owned())
            }
            Fault::GatewayLatency => self.faults(FaultsPatch {
                latency_ms: Some(0),
                ..FaultsPatch::default()
            }),
            Fault::GatewayErrors => self.faults(FaultsPatch {
                error_rate: Some(0.0),
                ..FaultsPatch::default()
            }),
            Fault::GatewayTimeouts => self.faults(FaultsPatch {
                timeout_rate: Some(0.0),
                ..FaultsPatch::default()
            }),
            Fault::PostgresTerminate | Fault::OrderSigterm | Fault::OrderKill => Ok(String::new()),
        }
    }

    /// Every injected gateway fault off (the run's last word, whatever happened).
    pub fn clear_gateway_faults(&self) -> Result<()> {
        self.faults(FaultsPatch {
            latency_ms: Some(0),
            error_rate: Some(0.0),
            timeout_rate: Some(0.0),
            decline_rate: None,
        })
        .map(|_| ())
    }

    fn faults(&self, patch: FaultsPatch) -> Result<String> {
        self.rt
            .block_on(self.fault_api.put(&patch))
            .with_context(|| format!("PUT /admin/faults {}", patch.describe()))?;
        Ok(format!("gateway {}", patch.describe()))
    }

    /// Adds the span counters of `services` (those running) to the tally: before a process
    /// stops, and once at the end.
    pub fn scrape_spans(&mut self, services: &[&str]) {
        for service in services {
            let running = match *service {
                ORDER => self.stack.order.is_some(),
                GATEWAY => self.stack.gateway.is_some(),
                CATALOG => self.stack.catalog.is_some(),
                _ => false,
            };
            if !running {
                continue;
            }
            let url = format!("{}/metrics", self.stack.url(service));
            let http = self.http.clone();
            let text = self.rt.block_on(async move {
                let response = http.get(url).send().await.ok()?;
                response.text().await.ok()
            });
            if let Some(text) = text {
                self.spans.add(&text);
            }
        }
    }
}

fn stopped(outcome: Option<devstack::StopOutcome>) -> String {
    match outcome {
        None => "was not running".to_owned(),
        Some(devstack::StopOutcome::Stopped(status)) => format!("exited, {status}"),
        Some(other) => other.to_string(),
    }
}
