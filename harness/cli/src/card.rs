//! `onshi card …`: the virtual My Number card by hand — list the shipped cards and who holds
//! them, regenerate the images, put a card into pcscd for any PC/SC tool, run an APDU script.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use onshi_card::apdu::{hex, unhex};
use onshi_card::image::{CardImage, resolve};
use onshi_card::pcscd::{HOW_TO_ENABLE, Pcscd, READER};
use onshi_card::vpcd::{LinkEvent, Vicc};
use onshi_card::{Card, Sw};
use onshi_harness::input;

use crate::{EXIT_FAIL, EXIT_HARNESS, EXIT_USAGE};

#[derive(clap::Subcommand)]
pub enum CardCommand {
    /// List the shipped cards: holder (persona), kind, certificate status, PIN tries.
    List,
    /// Regenerate the card images from a spec (deterministic: same spec, same bytes).
    Generate {
        #[arg(value_parser = crate::absolute_path(), long, default_value = "fixtures/cards/cards.toml", value_name = "FILE")]
        spec: PathBuf,
        #[arg(value_parser = crate::absolute_path(), long, default_value = "fixtures/cards/images", value_name = "DIR")]
        out: PathBuf,
    },
    /// Insert a card into pcscd's vpcd reader ("Virtual PCD 00 00") until Ctrl-C, printing
    /// every APDU, so that any PC/SC program can use it.
    Serve {
        /// A shipped card id (see `onshi card list`) or a card image file.
        #[arg(long, default_value = "valid-kenpo-insured", value_name = "ID|FILE")]
        card: String,
        /// Where vpcd listens (the system pcscd with Debian's vsmartcard-vpcd: 127.0.0.1:35963).
        #[arg(long, value_name = "HOST:PORT", conflicts_with = "private_pcscd")]
        vpcd: Option<String>,
        /// Start a private pcscd (no root pcscd needed) and print how clients reach it.
        #[arg(long)]
        private_pcscd: bool,
        /// Also print pcscd's presence polls (an ATR request about every 400 ms).
        #[arg(long)]
        verbose: bool,
    },
    /// Run an APDU script against a card and print the exchange. One command per line in hex,
    /// optionally `=> SW` (x = any nibble, e.g. `=> 63Cx`); `power-off`, `power-on`, `reset`;
    /// `#` starts a comment. Exit 1 when an expected status word differs.
    Run {
        #[arg(value_parser = crate::absolute_path(), value_name = "SCRIPT")]
        script: PathBuf,
        #[arg(long, default_value = "valid-kenpo-insured", value_name = "ID|FILE")]
        card: String,
    },
}

pub fn card_command(command: CardCommand) -> ExitCode {
    match command {
        CardCommand::List => list(),
        CardCommand::Generate { spec, out } => generate(&spec, &out),
        CardCommand::Serve {
            card,
            vpcd,
            private_pcscd,
            verbose,
        } => serve(&card, vpcd, private_pcscd, verbose),
        CardCommand::Run { script, card } => run(&script, &card),
    }
}

fn load(card: &str) -> Result<CardImage, ExitCode> {
    resolve(card).map_err(|e| {
        eprintln!("onshi card: {e}");
        ExitCode::from(EXIT_USAGE)
    })
}

fn list() -> ExitCode {
    let mut rows = Vec::new();
    for id in onshi_card::image::shipped_ids() {
        let Ok(image) = load(id) else {
            return ExitCode::from(EXIT_HARNESS);
        };
        let pins = &image.pins;
        let auth = match &pins.auth.value {
            Some(pin) => format!("PIN {pin}, {}/{} tries", pins.auth.tries_left, pins.auth.max_tries),
            None => "no PIN (顔認証のみ)".into(),
        };
        rows.push(format!(
            "{:<22} {:<22} {:<15} {}  auth cert {:<8} {auth}\n    {}",
            image.id,
            image.persona,
            image.kind.label(),
            image.holder.name,
            format!("{:?}", image.auth.status).to_lowercase(),
            image.summary
        ));
    }
    println!(
        "{:<22} {:<22} {:<15} holder's name, certificate, PIN",
        "card", "persona (holder)", "kind"
    );
    rows.iter().for_each(|r| println!("{r}"));
    println!(
        "\n{} cards (fixtures/cards/cards.toml; format: docs/cards.md)",
        rows.len()
    );
    ExitCode::SUCCESS
}

fn generate(spec: &Path, out: &Path) -> ExitCode {
    let text = match input::read_text(spec, "card spec", input::MAX_TEXT_BYTES) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("onshi card generate: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    println!(
        "generating the cards of {} (RSA-2048 keys for each: a few seconds)…",
        spec.display()
    );
    let images = match onshi_card::generate::generate_all(&text) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("onshi card generate: {}: {e}", spec.display());
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if let Err(e) = std::fs::create_dir_all(out) {
        eprintln!("onshi card generate: {}: {e}", out.display());
        return ExitCode::from(EXIT_HARNESS);
    }
    for image in &images {
        let path = out.join(format!("{}.toml", image.id));
        if let Err(e) = std::fs::write(&path, image.to_toml()) {
            eprintln!("onshi card generate: {}: {e}", path.display());
            return ExitCode::from(EXIT_HARNESS);
        }
        println!("wrote {}", path.display());
    }
    ExitCode::SUCCESS
}

fn serve(card: &str, vpcd: Option<String>, private_pcscd: bool, verbose: bool) -> ExitCode {
    let image = match load(card) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let dir = tempfile::tempdir();
    let pcscd = match (private_pcscd, &dir) {
        (true, Ok(dir)) => match Pcscd::start(dir.path()) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("onshi card serve: {e}; {HOW_TO_ENABLE}");
                return ExitCode::from(EXIT_HARNESS);
            }
        },
        (true, Err(e)) => {
            eprintln!("onshi card serve: cannot make a directory for pcscd: {e}");
            return ExitCode::from(EXIT_HARNESS);
        }
        (false, _) => None,
    };
    let addr = match (&pcscd, vpcd) {
        (Some(p), _) => p.vpcd_addr(),
        (None, Some(a)) => a,
        (None, None) => format!("127.0.0.1:{}", onshi_card::vpcd::DEFAULT_PORT),
    };
    let sink = Arc::new(move |e: LinkEvent| match e {
        LinkEvent::Atr if !verbose => {}
        LinkEvent::Apdu {
            command,
            response,
            sw,
            micros,
        } => {
            println!(
                "> {command}\n< {response}   {} ({micros} µs)",
                Sw(u16::from_str_radix(&sw, 16).unwrap_or(0)).meaning()
            );
        }
        other => println!("· {}", serde_json::to_string(&other).unwrap_or_default()),
    });
    let vicc = match Vicc::insert(addr.as_str(), Arc::new(Mutex::new(Card::new(&image))), sink, None) {
        Ok(v) => v,
        Err(e) => {
            eprintln!(
                "onshi card serve: cannot reach vpcd at {addr}: {e}\n  Is pcscd running with vsmartcard-vpcd (reader \"Virtual PCD\")? Or use --private-pcscd; {HOW_TO_ENABLE}."
            );
            return ExitCode::from(EXIT_HARNESS);
        }
    };
    println!(
        "card {} (holder: {}, {}) is in reader \"{READER}\" via vpcd at {addr}",
        image.id, image.persona, image.holder.name
    );
    println!("  auth PIN: {}", image.pins.auth.value.as_deref().unwrap_or("(none)"));
    if let Some(p) = &pcscd {
        println!(
            "  private pcscd — point PC/SC programs at it with:\n    export PCSCLITE_CSOCK_NAME={}",
            p.socket.display()
        );
        println!("  e.g.  PCSCLITE_CSOCK_NAME={} pcsc_scan", p.socket.display());
    } else {
        println!(
            "  try:  pcsc_scan   or   opensc-tool -r '{READER}' -s '00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01'"
        );
    }
    println!("Ctrl-C removes the card and stops.");
    let stopped = tokio::runtime::Builder::new_current_thread().enable_all().build().map(|rt| {
        rt.block_on(async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
            }
        })
    });
    if let Err(e) = stopped {
        eprintln!("onshi card serve: {e}");
    }
    vicc.remove();
    drop(pcscd);
    ExitCode::SUCCESS
}

/// One line of an APDU script.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    Apdu { bytes: Vec<u8>, expect: Option<String> },
    PowerOff,
    PowerOn,
    Reset,
}

fn parse_script(text: &str) -> Result<Vec<(usize, Step)>, String> {
    let mut steps = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        let n = i + 1;
        let step = match line {
            "" => continue,
            "power-off" => Step::PowerOff,
            "power-on" => Step::PowerOn,
            "reset" => Step::Reset,
            _ => {
                let (apdu, expect) = match line.split_once("=>") {
                    Some((a, e)) => (a, Some(e.trim().replace(' ', "").to_uppercase())),
                    None => (line, None),
                };
                if let Some(e) = &expect
                    && (e.len() != 4 || !e.chars().all(|c| c.is_ascii_hexdigit() || c == 'X'))
                {
                    return Err(format!(
                        "line {n}: expected status word {e:?} is not 4 hex digits (x = any)"
                    ));
                }
                let bytes = unhex(apdu).map_err(|m| format!("line {n}: {m}"))?;
                Step::Apdu { bytes, expect }
            }
        };
        steps.push((n, step));
    }
    Ok(steps)
}

fn sw_matches(sw: Sw, pattern: &str) -> bool {
    format!("{sw}")
        .chars()
        .zip(pattern.chars())
        .all(|(a, p)| p == 'X' || a == p)
}

fn run(script: &Path, card: &str) -> ExitCode {
    let image = match load(card) {
        Ok(i) => i,
        Err(code) => return code,
    };
    let text = match input::read_text(script, "APDU script", input::MAX_TEXT_BYTES) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("onshi card run: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let steps = match parse_script(&text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("onshi card run: {}: {e}", script.display());
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let mut card = Card::new(&image);
    card.power_on();
    println!("card {} (holder {}), ATR {}", image.id, image.persona, hex(card.atr()));
    let mut mismatches = 0;
    for (line, step) in steps {
        match step {
            Step::PowerOff => {
                card.power_off();
                println!("· power off");
            }
            Step::PowerOn => {
                card.power_on();
                println!("· power on");
            }
            Step::Reset => {
                card.reset();
                println!("· reset");
            }
            Step::Apdu { bytes, expect } => {
                let r = card.transmit(&bytes);
                println!("> {}", hex(&bytes));
                let data = if r.data.is_empty() {
                    String::new()
                } else {
                    format!("{} ", hex(&r.data))
                };
                println!("< {data}{}   {}", hex(&r.sw.bytes()), r.sw.meaning());
                if let Some(e) = expect
                    && !sw_matches(r.sw, &e)
                {
                    mismatches += 1;
                    println!("  ✗ line {line}: expected {e}, got {}", r.sw);
                }
            }
        }
    }
    if mismatches > 0 {
        println!("{mismatches} status word(s) differ from the script's expectations");
        return ExitCode::from(EXIT_FAIL);
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_parse_with_line_numbers() {
        let steps = parse_script("# c\n00 A4 04 0C 02 00 0A => 90 00\nreset\n00b0000004\n").unwrap();
        assert_eq!(steps.len(), 3);
        assert_eq!(steps[0].0, 2);
        assert_eq!(steps[1].1, Step::Reset);
        assert!(parse_script("00 A4 => 90").unwrap_err().contains("line 1"));
        assert!(parse_script("\nzz").unwrap_err().contains("line 2"));
        assert!(sw_matches(Sw(0x63C2), "63CX"));
        assert!(!sw_matches(Sw(0x6984), "63CX"));
    }
}
