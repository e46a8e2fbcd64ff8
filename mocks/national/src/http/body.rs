//! Response bodies, including the ones that misbehave on purpose: a body cut short after its
//! Content-Length was announced, and a body dribbled out slowly.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, SizeHint};

/// Any error of a body.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An error the mock causes on purpose (a fault): the connection ends as the fault says, and
/// it is not journaled as a failed connection.
#[derive(Debug)]
pub struct Deliberate(pub &'static str);

impl std::fmt::Display for Deliberate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Deliberate {}

/// Whether `e` or one of its causes (also inside an I/O error) is [`Deliberate`].
pub fn is_deliberate(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(e) = next {
        let inner_io = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .is_some_and(|inner| inner.is::<Deliberate>());
        if e.is::<Deliberate>() || inner_io {
            return true;
        }
        next = e.source();
    }
    false
}

/// The one body type the server answers with.
pub struct Body {
    data: Bytes,
    sent: usize,
    /// Stop after this many bytes with an error (the connection is cut).
    cut_at: Option<usize>,
    /// Send in chunks of this size, pausing between them.
    slow: Option<(usize, Duration)>,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Body {
    /// A body of `data`.
    pub fn full(data: impl Into<Bytes>) -> Self {
        Body {
            data: data.into(),
            sent: 0,
            cut_at: None,
            slow: None,
            pause: None,
        }
    }

    /// An empty body.
    pub fn empty() -> Self {
        Body::full(Bytes::new())
    }

    /// Announces the whole length but sends only `keep` bytes.
    pub fn truncated(data: impl Into<Bytes>, keep: usize) -> Self {
        Body {
            cut_at: Some(keep),
            ..Body::full(data)
        }
    }

    /// Sends `chunk` bytes every `interval`.
    pub fn slow(data: impl Into<Bytes>, chunk: usize, interval: Duration) -> Self {
        Body {
            slow: Some((chunk.max(1), interval)),
            ..Body::full(data)
        }
    }
}

impl HttpBody for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if let Some(pause) = this.pause.as_mut() {
            if pause.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.pause = None;
        }
        let end = this.cut_at.unwrap_or(this.data.len()).min(this.data.len());
        if this.sent >= end {
            if this.cut_at.is_some() && this.sent < this.data.len() {
                this.cut_at = None;
                this.sent = this.data.len();
                return Poll::Ready(Some(Err(Box::new(Deliberate(
                    "the body is cut short on purpose (fault truncated_body)",
                )))));
            }
            return Poll::Ready(None);
        }
        let size = match this.slow {
            Some((chunk, interval)) => {
                this.pause = Some(Box::pin(tokio::time::sleep(interval)));
                chunk.min(end - this.sent)
            }
            None => end - this.sent,
        };
        let frame = this.data.slice(this.sent..this.sent + size);
        this.sent += size;
        Poll::Ready(Some(Ok(Frame::data(frame))))
    }

    fn is_end_stream(&self) -> bool {
        self.sent >= self.data.len() && self.cut_at.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact((self.data.len() - self.sent.min(self.data.len())) as u64)
    }
}

use std::future::Future as _;
