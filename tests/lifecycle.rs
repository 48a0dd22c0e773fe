//! Dropping a generator joins its worker threads: no library code runs after
//! the drop (or `dgen_free`) returns.

use dgen::{Config, Generator};

fn threads_now() -> usize {
    std::fs::read_dir("/proc/self/task").map(|d| d.count()).unwrap_or(0)
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
        assert_eq!(threads_now(), before, "workers still alive after drop");
    }
}
