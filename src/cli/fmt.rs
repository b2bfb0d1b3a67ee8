//! `kensa fmt`: (being written).

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args) -> u8 {
    eprintln!("error: `kensa fmt` is not written yet");
    super::exit::UNUSABLE
}
