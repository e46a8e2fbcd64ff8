//! `onshi-reference-client` — the reference adapter as its own program:
//! `onshi run --adapter "onshi-reference-client --defect newqual-as-valid"`.

use clap::Parser;

#[derive(Parser)]
#[command(
    version,
    about = "A correct onshi-driver/1 folder-interface client, with deliberate defects on request"
)]
struct Cli {
    #[command(flatten)]
    args: onshi_reference_client::Args,
}

fn main() -> anyhow::Result<()> {
    onshi_reference_client::main_with(Cli::parse().args)
}
