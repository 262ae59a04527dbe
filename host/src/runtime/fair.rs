//! Keeps an action that computes from holding the worker thread that serves
//! every other request.
//!
//! A guest gives its worker back at each epoch tick, but only while wasm
//! code runs: a single host step — lifting a list of 100 000 strings out of
//! the guest, returning 64 MiB of linear memory to the kernel — cannot be
//! interrupted, and runs on the worker for as long as it takes. So once a
//! poll of a request has taken longer than a tick, every later poll of that
//! request runs in tokio's `block_in_place`: the worker's queue moves to
//! another thread, and the operating system, which preempts, shares the
//! cores between the long poll and everyone else.
//!
//! An action that shows it computes — several long polls in one request,
//! or one poll of many ticks — is marked, and every poll of its later
//! requests is handed off from the start, so even a first step that never
//! reaches a tick leaves the worker. Wall-clock time can mislead (the
//! operating system preempting a thread, a kernel lock held elsewhere), so
//! a handed-off poll is judged by the CPU time its thread spent, and a
//! marked action whose request computed nothing is unmarked. Requests
//! whose polls stay short never pay for a hand-off.

use rustix::time::{ClockId, clock_gettime};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::runtime::{Handle, RuntimeFlavor};

/// Long polls in one request that mark its action: a wall-clock-timed poll
/// is made long now and then by preemption (a scheduler slice of a
/// millisecond or three), this many are the action's own doing.
const LONG_POLLS_OF_A_COMPUTING_ACTION: u32 = 4;
/// Ticks a single poll may take before it marks its action: preemption
/// takes a thread away for a slice or two, not for this long.
const TICKS_OF_ONE_STEP: u32 = 8;
/// The share of a tick of CPU time that makes a handed-off poll long; an
/// action that only calls the host and formats an answer needs a few
/// dozen microseconds.
const CPU_SHARE_OF_A_LONG_POLL: u32 = 4;

/// Whether an action has been seen computing; shared by all instances of
/// one loaded action, so a new revision starts afresh.
#[derive(Debug, Default)]
pub(crate) struct ComputeHistory {
    computes: AtomicBool,
    /// Whether marking it was logged (once per loaded action).
    announced: AtomicBool,
}

impl ComputeHistory {
    /// Whether the action is marked as computing past its ticks.
    pub(crate) fn computes(&self) -> bool {
        self.computes.load(Ordering::Relaxed)
    }
}

/// How one request's futures are polled: on the worker, or handed off.
pub(crate) struct FairPolling<'a> {
    action: &'a str,
    history: &'a ComputeHistory,
    /// A poll longer than this is long.
    tick: Duration,
    /// `block_in_place` needs tokio's multi-threaded scheduler; on the
    /// current-thread one (tests) everything is polled in place.
    can_hand_off: bool,
    /// This request's long polls so far.
    long_polls: AtomicU32,
}

impl<'a> FairPolling<'a> {
    pub(crate) fn new(action: &'a str, history: &'a ComputeHistory, tick: Duration) -> Self {
        let can_hand_off = Handle::try_current()
            .is_ok_and(|handle| handle.runtime_flavor() == RuntimeFlavor::MultiThread);
        Self {
            action,
            history,
            tick,
            can_hand_off,
            long_polls: AtomicU32::new(0),
        }
    }

    /// Whether work for this request is to leave the worker now.
    fn hand_off(&self) -> bool {
        self.can_hand_off
            && (self.long_polls.load(Ordering::Relaxed) > 0 || self.history.computes())
    }

    /// Runs `work` off the worker when this request computes.
    pub(crate) fn run<R>(&self, work: impl FnOnce() -> R) -> R {
        if self.hand_off() {
            tokio::task::block_in_place(work)
        } else {
            work()
        }
    }

    /// Awaits `future`, each poll in place or handed off as above.
    pub(crate) async fn poll<F: Future>(&self, future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        std::future::poll_fn(|cx| self.poll_once(future.as_mut(), cx)).await
    }

    fn poll_once<F: Future>(&self, future: Pin<&mut F>, cx: &mut Context<'_>) -> Poll<F::Output> {
        if self.hand_off() {
            let cpu = thread_cpu_time();
            let polled = tokio::task::block_in_place(|| future.poll(cx));
            let spent = thread_cpu_time().saturating_sub(cpu);
            if spent > self.tick / CPU_SHARE_OF_A_LONG_POLL {
                self.count_long_poll(spent);
            }
            return polled;
        }
        let started = Instant::now();
        let polled = future.poll(cx);
        let took = started.elapsed();
        if took > self.tick {
            self.count_long_poll(took);
        }
        polled
    }

    /// Counts a long poll; marks the action once it shows it computes.
    fn count_long_poll(&self, took: Duration) {
        let long_polls = self.long_polls.fetch_add(1, Ordering::Relaxed) + 1;
        let computes =
            long_polls >= LONG_POLLS_OF_A_COMPUTING_ACTION || took > self.tick * TICKS_OF_ONE_STEP;
        if computes
            && !self.history.computes.swap(true, Ordering::Relaxed)
            && !self.history.announced.swap(true, Ordering::Relaxed)
        {
            tracing::info!(
                target: "fusio::action",
                action = self.action,
                poll_ms = took.as_secs_f64() * 1e3,
                "the action computes past its ticks; its requests run off the shared worker"
            );
        }
    }

    /// Ends the request: a marked action whose request had no long poll
    /// (judged by CPU time, as its polls were handed off) is unmarked.
    pub(crate) fn finish(self) {
        if self.long_polls.load(Ordering::Relaxed) == 0 && self.history.computes() {
            self.history.computes.store(false, Ordering::Relaxed);
        }
    }
}

/// The CPU time the calling thread has used.
fn thread_cpu_time() -> Duration {
    let now = clock_gettime(ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    const TICK: Duration = Duration::from_millis(1);

    /// A future that blocks its thread for `each` on every poll and is
    /// ready after `polls` of them.
    fn blocking_polls(polls: u32, each: Duration) -> impl Future<Output = ()> {
        let mut left = polls;
        std::future::poll_fn(move |cx| {
            std::thread::sleep(each);
            left -= 1;
            if left == 0 {
                Poll::Ready(())
            } else {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
    }

    async fn request(history: &ComputeHistory, polls: u32, each: Duration) {
        let fair = FairPolling::new("test", history, TICK);
        fair.poll(blocking_polls(polls, each)).await;
        fair.finish();
    }

    #[tokio::test]
    async fn several_long_polls_in_one_request_mark_the_action() {
        let history = ComputeHistory::default();
        request(&history, LONG_POLLS_OF_A_COMPUTING_ACTION - 1, TICK * 2).await;
        assert!(!history.computes(), "fewer long polls than the mark needs");
        request(&history, LONG_POLLS_OF_A_COMPUTING_ACTION, TICK * 2).await;
        assert!(history.computes());
    }

    #[tokio::test]
    async fn one_poll_of_many_ticks_marks_the_action() {
        let history = ComputeHistory::default();
        request(&history, 1, TICK * 2).await;
        assert!(!history.computes(), "one poll a little long is preemption");
        request(&history, 1, TICK * (TICKS_OF_ONE_STEP + 2)).await;
        assert!(history.computes());
    }

    #[tokio::test]
    async fn short_polls_never_mark_the_action() {
        let history = ComputeHistory::default();
        request(&history, 50, Duration::ZERO).await;
        assert!(!history.computes());
    }

    /// A marked action's request that spends no CPU time unmarks it; one
    /// that computes (busy, not sleeping) keeps the mark.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cpu_time_decides_whether_a_marked_action_stays_marked() {
        let history = Arc::new(ComputeHistory::default());
        history.computes.store(true, Ordering::Relaxed);
        let computing = {
            let history = history.clone();
            tokio::spawn(async move {
                let fair = FairPolling::new("test", &history, TICK);
                let mut left = 3;
                fair.poll(std::future::poll_fn(|cx| {
                    // A tick of this thread's own CPU time, however often
                    // a busy machine preempts it.
                    let started = thread_cpu_time();
                    while thread_cpu_time() < started + TICK {
                        std::hint::spin_loop();
                    }
                    left -= 1;
                    if left == 0 {
                        return Poll::Ready(());
                    }
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }))
                .await;
                fair.finish();
            })
        };
        computing.await.unwrap();
        assert!(history.computes(), "a request that computed keeps the mark");

        // Sleeping is wall time without CPU time: handed off, the polls are
        // judged by the thread's CPU clock and the mark goes.
        let history2 = history.clone();
        tokio::spawn(async move { request(&history2, 3, TICK * 2).await })
            .await
            .unwrap();
        assert!(
            !history.computes(),
            "a request that computed nothing unmarks"
        );
    }

    /// A handed-off poll leaves the worker to the other tasks: on a
    /// runtime with a single worker, a poll that waits for another task
    /// finishes only because that task could run meanwhile.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_handed_off_poll_leaves_the_worker_to_other_tasks() {
        let done = tokio::spawn(async {
            let history = ComputeHistory::default();
            history.computes.store(true, Ordering::Relaxed);
            let released = Arc::new(AtomicBool::new(false));
            let releaser = {
                let released = released.clone();
                tokio::spawn(async move { released.store(true, Ordering::Relaxed) })
            };
            let fair = FairPolling::new("test", &history, TICK);
            fair.poll(std::future::poll_fn(|_| {
                // Blocks this thread until the other task ran (or gives up).
                let started = Instant::now();
                while !released.load(Ordering::Relaxed)
                    && started.elapsed() < Duration::from_secs(5)
                {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Poll::Ready(())
            }))
            .await;
            let ran = released.load(Ordering::Relaxed);
            releaser.await.unwrap();
            ran
        });
        assert!(
            done.await.unwrap(),
            "the other task could not run while the poll held the worker"
        );
    }
}
