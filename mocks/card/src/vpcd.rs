//! The virtual ICC side of vsmartcard's `vpcd` reader driver (card.md §11): a TCP client of
//! the driver inside pcscd, speaking its framing — a 2-byte big-endian length, then either one
//! control byte (00 power off, 01 power on, 02 reset, 04 send the ATR) or a command APDU to
//! answer. Connecting inserts the card into `Virtual PCD 00 00`; closing the socket removes it.
//!
//! Everything that happens on the link is reported as a [`LinkEvent`] (the harness journals
//! them). A peer that sends garbage gets status words for whatever frames the bytes form; a
//! peer that stops or closes mid-frame ends the link cleanly with a `disconnected` event.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::Card;
use crate::apdu::hex;

/// The card as the link, the reader model and the harness share it: PIN counters live on
/// across insertions, as on a real card.
pub type SharedCard = Arc<Mutex<Card>>;

/// Where reports go (the harness's journal, a console printer, a test's channel).
pub type EventSink = Arc<dyn Fn(LinkEvent) + Send + Sync>;

/// vpcd's default port for slot 0 (`Virtual PCD 00 00`); slot 1 is the next port.
pub const DEFAULT_PORT: u16 = 35963;

/// How long the rest of a frame may take once its length has arrived.
const FRAME_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
/// What happened on the vpcd link (journaled as `card` events).
pub enum LinkEvent {
    /// The card is in the reader (TCP connection to vpcd up).
    Inserted {
        /// The vpcd address.
        vpcd: String,
    },
    /// vpcd powered the card on.
    PowerOn,
    /// vpcd powered the card off.
    PowerOff,
    /// vpcd reset the card.
    Reset,
    /// vpcd asked for the ATR (pcscd polls presence this way about every 400 ms).
    Atr,
    /// A command and the card's answer.
    Apdu {
        /// The command APDU, hex.
        command: String,
        /// The response data, hex.
        response: String,
        /// The status word, hex.
        sw: String,
        /// How long the card took, µs.
        micros: u64,
    },
    /// A one-byte frame that is no vpcd control code; nothing is answered.
    UnknownControl {
        /// The byte.
        byte: u8,
    },
    /// The harness took the card out; `during_apdu` when it did so instead of answering.
    Removed {
        /// The command the card was answering, hex.
        during_apdu: Option<String>,
    },
    /// The link ended without the harness asking: vpcd closed, stalled mid-frame, or sent a
    /// frame no vpcd sends.
    Disconnected {
        /// Why.
        reason: String,
    },
}

/// When a removal should happen in the middle of an exchange ("the patient snatched the card
/// away while the reader was signing").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoveDuring {
    /// The next command APDU with this INS is never answered; the card is gone.
    Ins(u8),
    /// The n-th command APDU (1-based) from now.
    Apdu(usize),
}

/// A card inserted into vpcd. Dropping it removes the card.
pub struct Vicc {
    stream: TcpStream,
    removed: Arc<AtomicBool>,
    ended: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Vicc {
    /// Inserts `card` by connecting to vpcd at `addr` (e.g. `127.0.0.1:35963`).
    pub fn insert(
        addr: impl ToSocketAddrs,
        card: SharedCard,
        sink: EventSink,
        remove_during: Option<RemoveDuring>,
    ) -> io::Result<Vicc> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        let peer = stream.peer_addr().map(|a| a.to_string()).unwrap_or_default();
        let removed = Arc::new(AtomicBool::new(false));
        let ended = Arc::new(AtomicBool::new(false));
        let link = Link {
            stream: stream.try_clone()?,
            card,
            sink: sink.clone(),
            removed: removed.clone(),
            ended: ended.clone(),
            remove_during,
            seen: 0,
        };
        sink(LinkEvent::Inserted { vpcd: peer });
        let thread = std::thread::Builder::new()
            .name("vicc".into())
            .spawn(move || link.run())?;
        Ok(Vicc {
            stream,
            removed,
            ended,
            thread: Some(thread),
        })
    }

    /// Whether the link is still up (false once vpcd closed it or a removal happened).
    pub fn is_inserted(&self) -> bool {
        !self.ended.load(Ordering::SeqCst)
    }

    /// Takes the card out of the reader.
    pub fn remove(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.removed.store(true, Ordering::SeqCst);
        let _ = self.stream.shutdown(Shutdown::Both);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Vicc {
    fn drop(&mut self) {
        self.shutdown();
    }
}

struct Link {
    stream: TcpStream,
    card: SharedCard,
    sink: EventSink,
    removed: Arc<AtomicBool>,
    ended: Arc<AtomicBool>,
    remove_during: Option<RemoveDuring>,
    seen: usize,
}

enum Frame {
    Ok(Vec<u8>),
    End(String),
}

impl Link {
    fn run(mut self) {
        let reason = loop {
            let frame = match self.read_frame() {
                Frame::Ok(f) => f,
                Frame::End(reason) => break reason,
            };
            let reply = match frame.as_slice() {
                [0x00] => self.control(LinkEvent::PowerOff, Card::power_off),
                [0x01] => self.control(LinkEvent::PowerOn, Card::power_on),
                [0x02] => self.control(LinkEvent::Reset, Card::reset),
                [0x04] => {
                    (self.sink)(LinkEvent::Atr);
                    Some(self.lock().atr().to_vec())
                }
                [byte] => {
                    (self.sink)(LinkEvent::UnknownControl { byte: *byte });
                    None
                }
                command => match self.apdu(command) {
                    Some(r) => Some(r),
                    None => {
                        self.ended.store(true, Ordering::SeqCst);
                        return;
                    }
                },
            };
            if let Some(reply) = reply {
                if let Err(e) = self.write_frame(&reply) {
                    break format!("writing to vpcd failed: {e}");
                }
            }
        };
        // whatever ended the link, the card is out of the reader now
        let _ = self.stream.shutdown(Shutdown::Both);
        self.ended.store(true, Ordering::SeqCst);
        if self.removed.load(Ordering::SeqCst) {
            (self.sink)(LinkEvent::Removed { during_apdu: None });
        } else {
            (self.sink)(LinkEvent::Disconnected { reason });
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Card> {
        // a panic elsewhere while holding the card must not take the link down with it
        self.card.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn control(&mut self, event: LinkEvent, action: fn(&mut Card)) -> Option<Vec<u8>> {
        action(&mut self.lock());
        (self.sink)(event);
        None
    }

    /// Answers one APDU, or removes the card instead (returns `None`).
    fn apdu(&mut self, command: &[u8]) -> Option<Vec<u8>> {
        self.seen += 1;
        let snatch = match self.remove_during {
            Some(RemoveDuring::Ins(ins)) => command.get(1) == Some(&ins),
            Some(RemoveDuring::Apdu(n)) => self.seen == n,
            None => false,
        };
        if snatch {
            self.removed.store(true, Ordering::SeqCst);
            let _ = self.stream.shutdown(Shutdown::Both);
            self.ended.store(true, Ordering::SeqCst);
            (self.sink)(LinkEvent::Removed {
                during_apdu: Some(hex(command)),
            });
            return None;
        }
        let started = Instant::now();
        let response = self.lock().transmit(command);
        let micros = started.elapsed().as_micros() as u64;
        let bytes = response.to_bytes();
        (self.sink)(LinkEvent::Apdu {
            command: hex(command),
            response: hex(&bytes),
            sw: response.sw.to_string(),
            micros,
        });
        Some(bytes)
    }

    /// vpcd writes a frame's length and its payload separately and without TCP_NODELAY, so
    /// with delayed ACKs here the payload waits ~40 ms for the ACK of the length (Nagle).
    /// Quick ACKs keep the round trip sub-millisecond; Linux resets the mode, so it is
    /// renewed before every read.
    fn quick_ack(&self) {
        let _ = socket2::SockRef::from(&self.stream).set_tcp_quickack(true);
    }

    fn read_frame(&mut self) -> Frame {
        let mut len = [0u8; 2];
        let _ = self.stream.set_read_timeout(None);
        self.quick_ack();
        match read_counted(&mut self.stream, &mut len) {
            Ok(()) => {}
            Err((0, _)) => return Frame::End("vpcd closed the connection".into()),
            Err((got, e)) => {
                return Frame::End(format!(
                    "connection ended inside a frame length ({got} of 2 bytes): {e}"
                ));
            }
        }
        let n = usize::from(u16::from_be_bytes(len));
        if n == 0 {
            return Frame::End("received a frame of length 0, which vpcd never sends".into());
        }
        let mut frame = vec![0u8; n];
        let _ = self.stream.set_read_timeout(Some(FRAME_TIMEOUT));
        self.quick_ack();
        match read_counted(&mut self.stream, &mut frame) {
            Ok(()) => Frame::Ok(frame),
            Err((got, e)) => Frame::End(format!("connection ended mid-frame ({got} of {n} bytes): {e}")),
        }
    }

    fn write_frame(&mut self, payload: &[u8]) -> io::Result<()> {
        // vpcd ejects the card on an empty answer; every answer here has at least SW1 SW2 or an ATR
        let mut out = Vec::with_capacity(payload.len() + 2);
        out.extend((payload.len() as u16).to_be_bytes());
        out.extend_from_slice(payload);
        self.stream.write_all(&out)
    }
}

/// `read_exact` that says how far it got.
fn read_counted(stream: &mut TcpStream, buf: &mut [u8]) -> Result<(), (usize, io::Error)> {
    let mut got = 0;
    while got < buf.len() {
        match stream.read(&mut buf[got..]) {
            Ok(0) => return Err((got, io::Error::new(io::ErrorKind::UnexpectedEof, "closed"))),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err((got, e)),
        }
    }
    Ok(())
}
