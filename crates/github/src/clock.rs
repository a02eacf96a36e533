//! Time for the edge: the real clock in production, a driven one in tests.
//!
//! Waiting out a rate limit or backing off is the only waiting the edge does; tests pass a
//! [`ManualClock`] that records every wait and returns at once, so they assert the exact waits
//! without sleeping.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// A clock the edge reads and waits on.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// The system clock and tokio's timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A clock that moves only when waited on, and remembers every wait.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<SystemTime>,
    waits: Mutex<Vec<Duration>>,
}

impl ManualClock {
    /// Starts at `start`.
    pub fn starting_at(start: SystemTime) -> Self {
        Self {
            now: Mutex::new(start),
            waits: Mutex::new(Vec::new()),
        }
    }

    /// Every wait so far, in order.
    pub fn waits(&self) -> Vec<Duration> {
        self.waits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self
            .now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        *self
            .now
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) += duration;
        self.waits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(duration);
        Box::pin(std::future::ready(()))
    }
}
