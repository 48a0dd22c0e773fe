//! Dropping a generator joins its worker threads: no library code runs after
//! the drop (or `dgen_free`) returns.

use dgen::{Config, Generator};

fn threads_now() -> usize {
    std::fs::read_dir("/proc/self/task").map(|d| d.count()).unwrap_or(0)
}

/// The thread count once it has settled at `want` (or what it is after two
/// seconds): a joined thread has run its last instruction, but the kernel may
/// list it under /proc a moment longer.
fn threads_settled(want: usize) -> usize {
    let start = std::time::Instant::now();
    loop {
        let n = threads_now();
        if n == want || start.elapsed() > std::time::Duration::from_secs(2) {
            return n;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

#[test]
fn worker_threads_are_joined_on_drop() {
    let before = threads_now();
    for _ in 0..20 {
        let g = Generator::new(Config { threads: 3, seed: Some(1), ..Config::default() }).unwrap();
        let mut buf = vec![0u8; 4 << 20];
        g.fill_at(0, &mut buf).unwrap(); // large enough to start the pool
        if g.threads() > 1 {
            assert!(threads_now() >= before + g.threads());
        }
        drop(g);
        assert_eq!(threads_settled(before), before, "workers still alive after drop");
    }
}
