//! The runner: a fixed number of calls from a fixed number of workers over a
//! few shared HTTP/2 connections, each call's latency in an HDR histogram
//! (microseconds, 3 significant digits), errors counted by status code.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use hdrhistogram::Histogram;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use warden_proto::v1::users_service_client::UsersServiceClient;

use crate::{BenchArgs, calls::Caller};

/// What one worker saw.
struct Tally {
    latencies: Histogram<u64>,
    errors: BTreeMap<String, u64>,
    first_error: Option<String>,
    /// Calls repeated after losing their connection.
    retried: u64,
}

impl Tally {
    fn new() -> anyhow::Result<Self> {
        // 1 µs .. 60 s at three significant digits.
        let latencies = Histogram::new_with_bounds(1, 60_000_000, 3).context("histogram bounds")?;
        Ok(Self { latencies, errors: BTreeMap::new(), first_error: None, retried: 0 })
    }

    fn merge(&mut self, other: Tally) -> anyhow::Result<()> {
        self.latencies.add(&other.latencies).context("merging histograms")?;
        for (code, n) in other.errors {
            *self.errors.entry(code).or_default() += n;
        }
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.retried += other.retried;
        Ok(())
    }
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    if args.concurrency == 0 || args.connections == 0 || args.requests == 0 {
        bail!("--requests, --concurrency and --connections must be at least 1");
    }
    let caller = Caller::new(&args)?;
    let mut clients = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        clients.push(UsersServiceClient::new(connect(&args.addr).await?));
    }
    if args.warmup > 0 {
        phase(&caller, &clients, args.concurrency, 0, args.warmup).await?;
    }
    let started = Instant::now();
    // Measured calls get indexes after the warm-up's, so they are new requests.
    let tally = phase(&caller, &clients, args.concurrency, args.warmup, args.requests).await?;
    let elapsed = started.elapsed();

    let failed: u64 = tally.errors.values().sum();
    let ok = args.requests - failed;
    let rps = args.requests as f64 / elapsed.as_secs_f64();
    let ms = |q: f64| tally.latencies.value_at_quantile(q) as f64 / 1000.0;
    let rpc = format!("{:?}", args.rpc);
    println!(
        "{rpc} {label}: {requests} calls ({ok} ok, {failed} failed) at concurrency {c} over {conns} connections in {secs:.2} s",
        label = args.label,
        requests = args.requests,
        c = args.concurrency,
        conns = args.connections,
        secs = elapsed.as_secs_f64(),
    );
    println!(
        "  {rps:.0} requests/s; latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        ms(0.5),
        ms(0.9),
        ms(0.99),
        tally.latencies.max() as f64 / 1000.0
    );
    if tally.retried > 0 {
        println!(
            "  {} calls retried after a connection closed (max_connection_age)",
            tally.retried
        );
    }
    if !tally.errors.is_empty() {
        println!("  errors by code: {:?}", tally.errors);
        if let Some(first) = &tally.first_error {
            println!("  first error: {first}");
        }
    }
    println!(
        "RESULT rpc={rpc} label={} requests={} ok={ok} failed={failed} concurrency={} rps={rps:.0} p50_ms={:.2} p99_ms={:.2}",
        args.label,
        args.requests,
        args.concurrency,
        ms(0.5),
        ms(0.99)
    );
    if failed > 0 {
        bail!("{failed} of {} calls failed", args.requests);
    }
    Ok(())
}

/// Calls number `first..first + count`, `concurrency` at a time.
async fn phase(
    caller: &Caller,
    clients: &[UsersServiceClient<Channel>],
    concurrency: usize,
    first: u64,
    count: u64,
) -> anyhow::Result<Tally> {
    let next = Arc::new(AtomicU64::new(first));
    let end = first + count;
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..concurrency {
        let mut client = clients[worker % clients.len()].clone();
        let caller = caller.clone();
        let next = next.clone();
        workers.spawn(async move {
            let mut tally = Tally::new()?;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= end {
                    return anyhow::Ok(tally);
                }
                let start = Instant::now();
                let mut result = caller.call(&mut client, i).await;
                // The server closes connections at `max_connection_age` (GOAWAY);
                // a call caught in that race is retried, as gRPC clients do.
                for _ in 0..2 {
                    match &result {
                        Err(status) if is_connection_loss(status) => {
                            tally.retried += 1;
                            result = caller.call(&mut client, i).await;
                        }
                        _ => break,
                    }
                }
                let micros = start.elapsed().as_micros().clamp(1, 60_000_000) as u64;
                tally.latencies.record(micros).context("recording a latency")?;
                if let Err(status) = result {
                    *tally.errors.entry(format!("{:?}", status.code())).or_default() += 1;
                    if tally.first_error.is_none() {
                        tally.first_error =
                            Some(format!("{:?}: {}", status.code(), status.message()));
                    }
                }
            }
        });
    }
    let mut total = Tally::new()?;
    while let Some(joined) = workers.join_next().await {
        total.merge(joined.context("a worker panicked")??)?;
    }
    Ok(total)
}

/// A call that never got an answer because its connection went away.
fn is_connection_loss(status: &tonic::Status) -> bool {
    matches!(status.code(), tonic::Code::Cancelled | tonic::Code::Unavailable)
}

pub async fn connect(addr: &str) -> anyhow::Result<Channel> {
    Endpoint::from_shared(addr.to_owned())
        .with_context(|| format!("bad address {addr:?}"))?
        .tcp_nodelay(true)
        .connect()
        .await
        .with_context(|| format!("connecting to {addr}"))
}

/// Polls gRPC health until SERVING or the timeout passes.
pub async fn wait_serving(addr: &str, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let status = match connect(addr).await {
            Ok(channel) => HealthClient::new(channel)
                .check(HealthCheckRequest { service: String::new() })
                .await
                .map(|r| r.into_inner().status())
                .ok(),
            Err(_) => None,
        };
        if status == Some(ServingStatus::Serving) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("{addr} did not answer SERVING within {timeout:?} (last: {status:?})");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
