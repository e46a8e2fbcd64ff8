//! `onshi-bench-card`: the virtual My Number card's speed — APDUs per second in process, the
//! APDU round trip through real pcscd (p50 / p99), and the whole user-authentication flow
//! through pcscd. Figures go into docs/performance.md. Needs pcscd and vsmartcard-vpcd; the
//! private pcscd runs as in the tests, and the measuring part re-runs this program with
//! `PCSCLITE_CSOCK_NAME` pointing at it (libpcsclite reads it once per process).

use std::ffi::CString;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use onshi_card::apdu::unhex;
use onshi_card::jpki::digest_info_sha256;
use onshi_card::pcscd::{Pcscd, READER};
use onshi_card::vpcd::{LinkEvent, Vicc};
use onshi_card::{Card, image};

#[derive(Parser)]
#[command(about = "Benchmark the virtual My Number card in process and through pcscd")]
struct Args {
    /// Round trips through pcscd per command measured.
    #[arg(long, default_value_t = 20_000)]
    round_trips: u64,
    /// Whole authentication flows through pcscd.
    #[arg(long, default_value_t = 300)]
    flows: u64,
    /// Seconds per in-process measurement.
    #[arg(long, default_value_t = 2)]
    seconds: u64,
    /// (internal) measure through this vpcd address; set when the program re-runs itself.
    #[arg(long, hide = true)]
    child_vpcd: Option<String>,
}

const CARD: &str = "valid-kenpo-insured";

/// The bytes of a constant APDU written in hex.
fn hex(text: &str) -> Vec<u8> {
    unhex(text).expect("constant APDUs are hex")
}
const SELECT_JPKI: &str = "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01";

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(addr) = &args.child_vpcd {
        return through_pcscd(addr, &args);
    }
    in_process(&args)?;
    let dir = tempfile::tempdir()?;
    let pcscd = Pcscd::start(dir.path())?;
    let status = std::process::Command::new(std::env::current_exe()?)
        .args([
            "--round-trips",
            &args.round_trips.to_string(),
            "--flows",
            &args.flows.to_string(),
        ])
        .args(["--child-vpcd", &pcscd.vpcd_addr()])
        .env("PCSCLITE_CSOCK_NAME", &pcscd.socket)
        .status()?;
    anyhow::ensure!(status.success(), "the measuring run failed ({status})");
    Ok(())
}

/// Operations per second of one APDU on a card in process (no PC/SC).
fn in_process(args: &Args) -> anyhow::Result<()> {
    let image = image::resolve(CARD)?;
    let mut card = Card::new(&image);
    let di = digest_info_sha256(b"bench");
    let mut sign = vec![0x80, 0x2A, 0x00, 0x80, di.len() as u8];
    sign.extend(&di);
    sign.push(0x00);
    println!("in process ({CARD}), {} s each:", args.seconds);
    let setup = |card: &mut Card, ef: u16| {
        card.transmit(&hex(SELECT_JPKI));
        card.transmit(&[0x00, 0xA4, 0x02, 0x0C, 0x02, (ef >> 8) as u8, ef as u8]);
    };
    for (label, ef, apdu) in [
        ("SELECT EF 000A", 0x000A, hex("00 A4 02 0C 02 00 0A")),
        (
            "READ BINARY 255 bytes of the certificate",
            0x000A,
            hex("00 B0 00 00 FF"),
        ),
        ("VERIFY retry query (63 C3)", 0x0018, hex("00 20 00 80")),
        ("VERIFY right PIN", 0x0018, hex("00 20 00 80 04 31 32 33 34")),
        ("COMPUTE DIGITAL SIGNATURE (RSA-2048)", 0x0017, sign.clone()),
    ] {
        setup(&mut card, 0x0018);
        card.transmit(&hex("00 20 00 80 04 31 32 33 34"));
        setup(&mut card, ef);
        let until = Instant::now() + Duration::from_secs(args.seconds);
        let mut n = 0u64;
        let started = Instant::now();
        while Instant::now() < until {
            for _ in 0..64 {
                std::hint::black_box(card.transmit(std::hint::black_box(&apdu)));
            }
            n += 64;
        }
        let per_s = n as f64 / started.elapsed().as_secs_f64();
        println!("  {label:<42} {per_s:>12.0} APDUs/s   ({:.2} µs each)", 1e6 / per_s);
    }
    Ok(())
}

fn transmit(card: &pcsc::Card, apdu: &[u8], buf: &mut [u8]) -> anyhow::Result<u16> {
    let r = card.transmit(apdu, buf)?;
    anyhow::ensure!(r.len() >= 2, "no status word");
    Ok(u16::from_be_bytes([r[r.len() - 2], r[r.len() - 1]]))
}

fn print_histogram(label: &str, h: &Histogram<u64>, unit: &str, scale: f64) {
    println!(
        "  {label:<42} p50 {:>8.3} {unit}  p90 {:>8.3}  p99 {:>8.3}  p99.9 {:>8.3}  max {:>8.3}  (n = {})",
        h.value_at_quantile(0.5) as f64 / scale,
        h.value_at_quantile(0.9) as f64 / scale,
        h.value_at_quantile(0.99) as f64 / scale,
        h.value_at_quantile(0.999) as f64 / scale,
        h.max() as f64 / scale,
        h.len()
    );
}

/// The measurements through pcscd (this process has PCSCLITE_CSOCK_NAME set).
fn through_pcscd(addr: &str, args: &Args) -> anyhow::Result<()> {
    let image = image::resolve(CARD)?;
    let inside = Arc::new(Mutex::new(Histogram::<u64>::new(3)?));
    let card_time = inside.clone();
    let sink = Arc::new(move |e: LinkEvent| {
        if let LinkEvent::Apdu { micros, .. } = e {
            let _ = card_time.lock().expect("histogram").record(micros.max(1));
        }
    });
    let vicc = Vicc::insert(addr, Arc::new(Mutex::new(Card::new(&image))), sink, None)?;
    let ctx = pcsc::Context::establish(pcsc::Scope::User)?;
    let reader = CString::new(READER)?;
    // pcscd reports the card once its presence poll has seen it
    let mut card = None;
    for _ in 0..100 {
        match ctx.connect(&reader, pcsc::ShareMode::Exclusive, pcsc::Protocols::ANY) {
            Ok(c) => {
                card = Some(c);
                break;
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let card = card.ok_or_else(|| anyhow::anyhow!("cannot connect to {READER}"))?;
    let mut buf = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
    transmit(&card, &hex(SELECT_JPKI), &mut buf)?;
    transmit(&card, &hex("00 A4 02 0C 02 00 0A"), &mut buf)?;
    println!("through pcscd (pcsc crate → libpcsclite → pcscd → vpcd → the card over loopback TCP):");
    for (label, apdu) in [
        ("READ BINARY 4 bytes", hex("00 B0 00 00 04")),
        ("READ BINARY 255 bytes", hex("00 B0 00 00 FF")),
        ("SELECT EF", hex("00 A4 02 0C 02 00 0A")),
    ] {
        let mut h = Histogram::<u64>::new(3)?;
        for i in 0..args.round_trips + 500 {
            let started = Instant::now();
            let sw = transmit(&card, &apdu, &mut buf)?;
            anyhow::ensure!(sw == 0x9000, "{label}: {sw:04X}");
            if i >= 500 {
                h.record(started.elapsed().as_nanos() as u64)?;
            }
        }
        print_histogram(label, &h, "ms", 1e6);
    }
    print_histogram(
        "of which inside the card (µs)",
        &inside.lock().expect("histogram"),
        "µs",
        1.0,
    );
    drop(card);
    let mut h = Histogram::<u64>::new(3)?;
    let di = digest_info_sha256(b"bench flow");
    let mut sign = vec![0x80, 0x2A, 0x00, 0x80, di.len() as u8];
    sign.extend(&di);
    sign.push(0x00);
    for _ in 0..args.flows {
        let started = Instant::now();
        let card = ctx.connect(&reader, pcsc::ShareMode::Exclusive, pcsc::Protocols::ANY)?;
        transmit(&card, &hex(SELECT_JPKI), &mut buf)?;
        transmit(&card, &hex("00 A4 02 0C 02 00 0A"), &mut buf)?;
        let head = card.transmit(&hex("00 B0 00 00 04"), &mut buf)?.to_vec();
        let total = usize::from(u16::from_be_bytes([head[2], head[3]])) + 4;
        let mut read = 0;
        while read < total {
            let n = (total - read).min(255);
            let apdu = [0x00, 0xB0, (read >> 8) as u8, read as u8, n as u8];
            read += card.transmit(&apdu, &mut buf)?.len() - 2;
        }
        transmit(&card, &hex("00 A4 02 0C 02 00 18"), &mut buf)?;
        anyhow::ensure!(transmit(&card, &hex("00 20 00 80 04 31 32 33 34"), &mut buf)? == 0x9000);
        transmit(&card, &hex("00 A4 02 0C 02 00 17"), &mut buf)?;
        anyhow::ensure!(transmit(&card, &sign, &mut buf)? == 0x9000, "signature refused");
        card.disconnect(pcsc::Disposition::LeaveCard).map_err(|(_, e)| e)?;
        h.record(started.elapsed().as_micros() as u64)?;
    }
    print_histogram("whole authentication flow (connect … sign)", &h, "ms", 1e3);
    vicc.remove();
    Ok(())
}
