//! `onshi-bench-terminal`: round trips per second through the terminal folder with zero
//! configured delay, pickup latency with file-system events and with the rescan alone, and a
//! 1,000-person bulk file. Figures go into docs/performance.md.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use onshi_benches::terminal::{Bench, Discovery, histogram, summary};

#[derive(Parser)]
#[command(about = "Benchmark the terminal's folder interface")]
struct Args {
    /// Sequential round trips per discovery mode (latency figures).
    #[arg(long, default_value_t = 2000)]
    requests: u64,
    /// Clients writing requests at the same time (throughput figure).
    #[arg(long, default_value_t = 16)]
    concurrency: u64,
    /// How long the throughput run lasts.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// People in the bulk file.
    #[arg(long, default_value_t = 1000)]
    bulk: u64,
    /// The rescan period of the polling-only run.
    #[arg(long, default_value_t = 50)]
    rescan_ms: u64,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    for (label, discovery) in [
        ("file-system events", Discovery::Events),
        (
            "polling only",
            Discovery::Polling {
                rescan_ms: args.rescan_ms,
                settle_ms: args.rescan_ms,
            },
        ),
    ] {
        let bench = Bench::start(discovery).await?;
        let requests: Vec<Vec<u8>> = (0..50).map(|n| bench.request(n)).collect::<anyhow::Result<_>>()?;
        let (mut rt, mut pickup) = (histogram(), histogram());
        for n in 0..args.requests {
            let (r, p) = bench.round_trip(n, &requests[(n % 50) as usize]).await?;
            rt.record(r.as_micros().max(1) as u64)?;
            pickup.record(p.as_micros().max(1) as u64)?;
        }
        println!("{label}, sequential, {} round trips:", args.requests);
        println!("  round trip  {}", summary(&rt));
        println!("  pickup      {}", summary(&pickup));
        bench.terminal.stop().await;
    }

    let bench = Arc::new(Bench::start(Discovery::Events).await?);
    let requests: Arc<Vec<Vec<u8>>> = Arc::new((0..50).map(|n| bench.request(n)).collect::<anyhow::Result<_>>()?);
    let next = Arc::new(AtomicU64::new(1_000_000));
    let end = Instant::now() + Duration::from_secs(args.seconds);
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency {
        let (bench, requests, next) = (bench.clone(), requests.clone(), next.clone());
        clients.spawn(async move {
            let mut h = histogram();
            while Instant::now() < end {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let (r, _) = bench.round_trip(n, &requests[(n % 50) as usize]).await?;
                h.record(r.as_micros().max(1) as u64)?;
            }
            anyhow::Ok(h)
        });
    }
    let mut all = histogram();
    while let Some(h) = clients.join_next().await {
        all.add(h??)?;
    }
    println!(
        "file-system events, {} clients for {} s: {:.0} round trips/s, round trip {}",
        args.concurrency,
        args.seconds,
        all.len() as f64 / args.seconds as f64,
        summary(&all)
    );

    let (uploaded, downloaded, bytes) = bench.bulk(args.bulk).await?;
    println!(
        "bulk, {} people: upload → ReceptionNumber {:.1} ms, download → result {:.1} ms ({} KiB)",
        args.bulk,
        uploaded.as_secs_f64() * 1000.0,
        downloaded.as_secs_f64() * 1000.0,
        bytes / 1024
    );
    Ok(())
}
