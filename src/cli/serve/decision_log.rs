//! The decision log: every decision the service makes, one JSON line each, appended to a file
//! that is rotated by size (or written to standard output).
//!
//! Requests hand their lines to one writer thread through a bounded channel, so a request never
//! waits for the disk unless the writer is a whole channel behind. The writer writes what it
//! has and flushes whenever the channel is empty: a burst becomes one `write`, a quiet server's
//! line reaches the file at once. A file is rotated before a line would take it past the size
//! limit: `FILE` becomes `FILE.1`, `FILE.1` becomes `FILE.2`, …, and the oldest beyond `keep`
//! is deleted. Closing (at shutdown, after the last request) writes out everything queued.
//!
//! Lines carry the record as [`kensa::Engine::masked_record`] shows it and the verdict as the
//! engine reports it (the server's engine never shows secrets), so no My Number or account
//! number reaches the log in full.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Lines queued for the writer before a request waits for it.
const QUEUE: usize = 65_536;

pub struct DecisionLog {
    sender: Mutex<Option<SyncSender<String>>>,
    writer: Mutex<Option<JoinHandle<io::Result<()>>>>,
}

enum Sink {
    Stdout,
    File { path: PathBuf, file: io::BufWriter<File>, size: u64, max: u64, keep: usize },
}

impl DecisionLog {
    /// Open (append to) `path`, or standard output for `-`.
    pub fn open(path: &Path, max: u64, keep: usize) -> Result<DecisionLog, String> {
        let sink = if path == Path::new("-") {
            Sink::Stdout
        } else {
            let (file, size) =
                open_append(path).map_err(|e| format!("cannot open the decision log `{}`: {e}", path.display()))?;
            Sink::File { path: path.to_path_buf(), file: io::BufWriter::with_capacity(1 << 16, file), size, max, keep }
        };
        let (sender, receiver) = sync_channel(QUEUE);
        let writer = std::thread::Builder::new()
            .name(String::from("kensa-decision-log"))
            .spawn(move || write_lines(sink, &receiver))
            .map_err(|e| format!("cannot start the decision log's writer: {e}"))?;
        Ok(DecisionLog { sender: Mutex::new(Some(sender)), writer: Mutex::new(Some(writer)) })
    }

    /// Queue one line (without its line feed). After [`DecisionLog::close`] lines are dropped.
    pub fn append(&self, line: String) {
        let sender = self.sender.lock().ok().and_then(|s| s.clone());
        if let Some(s) = sender {
            // Fails only when the writer has stopped on an I/O error, which it reported.
            let _ = s.send(line);
        }
    }

    /// Write out everything queued and close the file; the writer's first I/O error, if any.
    pub fn close(&self) -> io::Result<()> {
        if let Ok(mut s) = self.sender.lock() {
            s.take();
        }
        let writer = self.writer.lock().ok().and_then(|mut w| w.take());
        match writer.map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(io::Error::other("the decision log's writer stopped unexpectedly")),
            None => Ok(()),
        }
    }
}

fn open_append(path: &Path) -> io::Result<(File, u64)> {
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    let size = file.metadata()?.len();
    Ok((file, size))
}

fn write_lines(mut sink: Sink, receiver: &Receiver<String>) -> io::Result<()> {
    let result = (|| {
        while let Ok(first) = receiver.recv() {
            sink.write_line(&first)?;
            // Everything already queued goes out in the same flush.
            while let Ok(line) = receiver.try_recv() {
                sink.write_line(&line)?;
            }
            sink.flush()?;
        }
        sink.flush()
    })();
    if let Err(e) = &result {
        eprintln!("error: the decision log cannot be written: {e}; decisions are no longer logged");
    }
    result
}

impl Sink {
    fn write_line(&mut self, line: &str) -> io::Result<()> {
        match self {
            Sink::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(line.as_bytes())?;
                out.write_all(b"\n")
            }
            Sink::File { path, file, size, max, keep } => {
                let len = line.len() as u64 + 1;
                if *size > 0 && *size + len > *max {
                    file.flush()?;
                    rotate(path, *keep)?;
                    let (fresh, fresh_size) = open_append(path)?;
                    *file = io::BufWriter::with_capacity(1 << 16, fresh);
                    *size = fresh_size;
                }
                file.write_all(line.as_bytes())?;
                file.write_all(b"\n")?;
                *size += len;
                Ok(())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout => io::stdout().lock().flush(),
            Sink::File { file, .. } => file.flush(),
        }
    }
}

/// `FILE.{keep}` deleted, `FILE.{n}` → `FILE.{n+1}`, `FILE` → `FILE.1`.
fn rotate(path: &Path, keep: usize) -> io::Result<()> {
    let numbered = |n: usize| {
        let mut p = path.as_os_str().to_owned();
        p.push(format!(".{n}"));
        PathBuf::from(p)
    };
    match std::fs::remove_file(numbered(keep)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    for n in (1..keep).rev() {
        match std::fs::rename(numbered(n), numbered(n + 1)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    std::fs::rename(path, numbered(1))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn lines_are_appended_in_order_and_rotated_by_size_keeping_n_files() {
        let dir = std::env::temp_dir().join(format!("kensa-dlog-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("decisions.jsonl");
        let log = DecisionLog::open(&path, 100, 2).unwrap();
        // Ten lines of 40 bytes (with the line feed): two fit a 100-byte file.
        for i in 0..10 {
            log.append(format!("{{\"n\":{i},\"pad\":\"{}\"}}", "x".repeat(39 - 15 - i.to_string().len())));
        }
        log.close().unwrap();
        log.append(String::from("after close"));
        let read = |p: &Path| std::fs::read_to_string(p).unwrap();
        let numbers = |text: String| -> Vec<u64> {
            text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["n"].as_u64().unwrap()).collect()
        };
        assert_eq!(numbers(read(&path)), vec![8, 9]);
        assert_eq!(numbers(read(&dir.join("decisions.jsonl.1"))), vec![6, 7]);
        assert_eq!(numbers(read(&dir.join("decisions.jsonl.2"))), vec![4, 5]);
        assert!(!dir.join("decisions.jsonl.3").exists(), "only two rotated files are kept");
        // Reopened, the log appends to what is there.
        let log = DecisionLog::open(&path, 1000, 2).unwrap();
        log.append(String::from("{\"n\":10}"));
        log.close().unwrap();
        assert_eq!(numbers(read(&path)), vec![8, 9, 10]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
