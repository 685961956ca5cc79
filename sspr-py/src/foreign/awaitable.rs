//! Awaiting a Python backend's coroutine from the core's Rust future.
//!
//! Inside `Sspr` (asyncio) the coroutine is stepped by hand on the event loop's thread, as
//! an `asyncio.Task` would step it: `send(None)` until it finishes; when it yields an
//! asyncio future, the Rust task is woken by that future's done-callback. Dropping the Rust
//! future (the caller's task was cancelled, e.g. by `asyncio.wait_for`) cancels the future
//! it waits on and throws `CancelledError` into the coroutine, so its `except` / `finally`
//! blocks run.
//!
//! Inside `BlockingSspr` there is no running loop: the coroutine runs to completion on a
//! private event loop of the calling thread (`sspr._support.run_blocking`).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use pyo3::exceptions::{PyRuntimeError, PyStopIteration};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// The Rust waker the pending asyncio future's done-callback wakes; replaced on every poll
/// (pyo3 hands every poll a fresh waker).
type WakerSlot = Arc<Mutex<Option<Waker>>>;

fn wake(slot: &WakerSlot) {
    let waker = slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// The done-callback registered on the asyncio future a backend coroutine waits on.
#[pyclass(frozen)]
struct WakeOnDone {
    slot: WakerSlot,
}

#[pymethods]
impl WakeOnDone {
    fn __call__(&self, _future: &Bound<'_, PyAny>) {
        wake(&self.slot);
    }
}

/// A Python awaitable being awaited by Rust on the running asyncio loop.
pub(crate) struct PyAwait {
    /// The iterator `__await__()` returned; `None` once finished.
    iter: Option<Py<PyAny>>,
    /// The asyncio future the coroutine waits on, if any.
    waiting_on: Option<Py<PyAny>>,
    slot: WakerSlot,
}

impl PyAwait {
    /// Start awaiting `awaitable` (anything with `__await__`).
    pub(crate) fn new(awaitable: &Bound<'_, PyAny>) -> PyResult<Self> {
        let iter = awaitable.call_method0(intern!(awaitable.py(), "__await__"))?;
        Ok(Self { iter: Some(iter.unbind()), waiting_on: None, slot: Arc::new(Mutex::new(None)) })
    }

    fn step(&mut self, py: Python<'_>, cx: &mut Context<'_>) -> Poll<PyResult<Py<PyAny>>> {
        let Some(iter) = self.iter.as_ref().map(|i| i.bind(py).clone()) else {
            return Poll::Ready(Err(PyRuntimeError::new_err("backend coroutine already finished")));
        };
        if let Some(future) = &self.waiting_on {
            match future.bind(py).call_method0(intern!(py, "done")).and_then(|d| d.is_truthy()) {
                Ok(true) => {}
                Ok(false) => {
                    *self.slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
            self.waiting_on = None;
        }
        let sent = if iter.hasattr(intern!(py, "send")).unwrap_or(false) {
            iter.call_method1(intern!(py, "send"), (py.None(),))
        } else {
            iter.call_method0(intern!(py, "__next__"))
        };
        match sent {
            Ok(yielded) if yielded.is_none() => {
                // A bare `yield`: run again on the loop's next turn.
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Ok(yielded) => {
                let blocking = intern!(py, "_asyncio_future_blocking");
                if !yielded.getattr(blocking).and_then(|b| b.is_truthy()).unwrap_or(false) {
                    self.finish(py);
                    return Poll::Ready(Err(PyRuntimeError::new_err(
                        "a backend coroutine yielded something that is not an asyncio future",
                    )));
                }
                if let Err(e) = yielded.setattr(blocking, false) {
                    return Poll::Ready(Err(e));
                }
                *self.slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(cx.waker().clone());
                let callback = match Bound::new(py, WakeOnDone { slot: Arc::clone(&self.slot) }) {
                    Ok(cb) => cb,
                    Err(e) => return Poll::Ready(Err(e)),
                };
                if let Err(e) = yielded.call_method1(intern!(py, "add_done_callback"), (callback,)) {
                    return Poll::Ready(Err(e));
                }
                self.waiting_on = Some(yielded.unbind());
                Poll::Pending
            }
            Err(e) if e.is_instance_of::<PyStopIteration>(py) => {
                self.iter = None;
                let value = e.value(py).getattr(intern!(py, "value")).map(Bound::unbind);
                Poll::Ready(value)
            }
            Err(e) => {
                self.iter = None;
                Poll::Ready(Err(e))
            }
        }
    }

    /// Cancel what the coroutine waits on and throw `CancelledError` into it.
    fn finish(&mut self, py: Python<'_>) {
        if let Some(future) = self.waiting_on.take() {
            let _ = future.bind(py).call_method0(intern!(py, "cancel"));
        }
        let Some(iter) = self.iter.take() else { return };
        let iter = iter.bind(py);
        let cancelled = py.import(intern!(py, "asyncio")).and_then(|m| m.getattr(intern!(py, "CancelledError")));
        if let Ok(cancelled) = cancelled
            && let Ok(exc) = cancelled.call0()
            && iter.call_method1(intern!(py, "throw"), (exc,)).is_ok()
        {
            // It caught the cancellation and waits again: nobody will resume it.
            let _ = iter.call_method0(intern!(py, "close"));
        }
    }
}

impl Future for PyAwait {
    type Output = PyResult<Py<PyAny>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Python::attach(|py| self.step(py, cx))
    }
}

impl Drop for PyAwait {
    fn drop(&mut self) {
        if self.iter.is_some() || self.waiting_on.is_some() {
            Python::attach(|py| self.finish(py));
        }
    }
}

/// Run `awaitable` to completion on the calling thread's private event loop (blocking API).
pub(crate) fn run_blocking(py: Python<'_>, awaitable: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
    static RUN: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let run = RUN.import(py, "sspr._support", "run_blocking")?;
    run.call1((awaitable,)).map(Bound::unbind)
}
