//! Every thread kcdplan starts is started here, in three shapes, each used
//! where the benchmark (docs/performance.md) shows that the second core
//! pays: a producer that reads ahead of its consumer ([`pipeline`]: the CSV
//! and the export are read, hashed and decoded while what was read is
//! worked on), two halves of one job ([`join`]), and independent jobs at
//! once ([`all`]), one of which may wait for the others' results
//! ([`Gather`]: the summary lists the other files' SHA-256).

use std::sync::{mpsc, Condvar, Mutex};

/// The producer's end of a [`pipeline`].
pub struct Producer<T> {
    full: mpsc::SyncSender<T>,
    empty: mpsc::Receiver<T>,
}

impl<T: Default> Producer<T> {
    /// An item to fill: one the consumer is done with, else a new one.
    pub fn item(&self) -> T {
        self.empty.try_recv().unwrap_or_default()
    }

    /// Hands `item` to the consumer; false once the consumer has stopped.
    pub fn send(&self, item: T) -> bool {
        self.full.send(item).is_ok()
    }
}

/// The consumer's end of a [`pipeline`].
pub struct Consumer<T> {
    full: mpsc::Receiver<T>,
    empty: mpsc::Sender<T>,
}

impl<T> Consumer<T> {
    /// The next item; `None` once the producer has ended.
    pub fn recv(&self) -> Option<T> {
        self.full.recv().ok()
    }

    /// Gives a used item back, so that its buffers are filled again
    /// rather than allocated anew.
    pub fn give_back(&self, item: T) {
        // (A producer that has ended needs nothing back.)
        let _ = self.empty.send(item);
    }
}

/// Runs `produce` on a second thread and `consume` on this one, joined by
/// a queue of at most `depth` items; returns both results once both have
/// ended. A consumer that returns early stops the producer at its next
/// item. A panic on either thread is resumed here.
pub fn pipeline<T, P, C>(
    depth: usize,
    produce: impl FnOnce(Producer<T>) -> P + Send,
    consume: impl FnOnce(Consumer<T>) -> C,
) -> (P, C)
where
    T: Default + Send,
    P: Send,
{
    let (full_tx, full_rx) = mpsc::sync_channel(depth);
    let (empty_tx, empty_rx) = mpsc::channel();
    std::thread::scope(|s| {
        let producer = s.spawn(move || {
            produce(Producer {
                full: full_tx,
                empty: empty_rx,
            })
        });
        let c = consume(Consumer {
            full: full_rx,
            empty: empty_tx,
        });
        let p = producer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (p, c)
    })
}

/// Runs `a` on a second thread and `b` on this one; both results.
pub fn join<A: Send, B>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
    std::thread::scope(|s| {
        let a = s.spawn(a);
        let b = b();
        let a = a
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (a, b)
    })
}

/// Runs `run` on every job at once, one thread each; the results in the
/// jobs' order. A panic is resumed once every job has ended.
pub fn all<J: Sync, R: Send>(jobs: &[J], run: impl Fn(&J) -> R + Sync) -> Vec<R> {
    let run = &run;
    std::thread::scope(|s| {
        let running: Vec<_> = jobs.iter().map(|j| s.spawn(move || run(j))).collect();
        let ended: Vec<_> = running.into_iter().map(|t| t.join()).collect();
        ended
            .into_iter()
            .map(|r| r.unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}

/// Results that other threads put in one by one, read by a thread that
/// waits until every one is in.
#[derive(Debug)]
pub struct Gather<T> {
    slots: Mutex<Vec<Option<Option<T>>>>,
    ready: Condvar,
}

impl<T: Clone> Gather<T> {
    /// Room for `n` results.
    pub fn new(n: usize) -> Gather<T> {
        Gather {
            slots: Mutex::new(vec![None; n]),
            ready: Condvar::new(),
        }
    }

    /// Puts result `i`: a value, or `None` for a job that failed.
    pub fn put(&self, i: usize, value: Option<T>) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots[i] = Some(value);
        self.ready.notify_all();
    }

    /// Every result, in order, once all are in; `None` if a job failed.
    pub fn wait(&self) -> Option<Vec<T>> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        while slots.iter().any(Option::is_none) {
            slots = self.ready.wait(slots).unwrap_or_else(|e| e.into_inner());
        }
        slots.iter().map(|s| s.clone().flatten()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Items arrive in order, buffers come back to be reused, and a
    /// consumer that stops early stops the producer.
    #[test]
    fn a_pipeline_hands_items_in_order_and_reuses_them() {
        let (made, seen) = pipeline(
            2,
            |p: Producer<Vec<u32>>| {
                let mut new = 0;
                for i in 0..100 {
                    let mut item = p.item();
                    new += usize::from(item.capacity() == 0);
                    item.clear();
                    item.push(i);
                    if !p.send(item) {
                        break;
                    }
                }
                new
            },
            |c| {
                let mut seen = Vec::new();
                while let Some(item) = c.recv() {
                    seen.push(item[0]);
                    c.give_back(item);
                }
                seen
            },
        );
        assert_eq!(seen, (0..100).collect::<Vec<_>>());
        assert!(made < 100, "{made} new items for 100");
        let (sent, ()) = pipeline(
            1,
            |p: Producer<u32>| (0..1000).take_while(|&i| p.send(i)).count(),
            |c| {
                c.recv();
            },
        );
        assert!(sent < 1000);
    }

    /// A reader waits until every result is in; one failure empties it.
    #[test]
    fn gather_waits_for_every_result() {
        let g = Gather::new(2);
        let got = join(
            || g.wait(),
            || {
                std::thread::sleep(std::time::Duration::from_millis(50));
                g.put(1, Some("b"));
                g.put(0, Some("a"));
            },
        );
        assert_eq!(got.0, Some(vec!["a", "b"]));
        let g = Gather::new(2);
        g.put(0, Some(1));
        g.put(1, None);
        assert_eq!(g.wait(), None);
        assert_eq!(all(&[1, 2, 3], |x| x * 2), [2, 4, 6]);
    }
}
