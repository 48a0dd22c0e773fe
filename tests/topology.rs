//! Placement changes where work runs, never what is produced.

use dgen::{Config, Generator, NumaMode, Topology};

fn bytes(cfg: Config) -> Vec<u8> {
    let g = Generator::new(cfg).unwrap();
    let mut buf = vec![0u8; 24 << 20];
    g.fill_at(12345, &mut buf).unwrap();
    buf
}

#[test]
fn output_does_not_depend_on_placement() {
    let base = Config { dedup_ratio: 2.0, compress_ratio: 3.0, seed: Some(77), ..Config::default() };
    let want = bytes(Config { threads: 1, numa_mode: NumaMode::Off, ..base.clone() });
    let node0 = Topology::current().nodes()[0];
    for cfg in [
        Config { threads: 2, numa_mode: NumaMode::Force, ..base.clone() },
        Config { threads: 3, numa_mode: NumaMode::Auto, ..base.clone() },
        Config { threads: 0, numa_node: Some(node0), ..base.clone() },
        Config { threads: 2, numa_node: Some(node0), numa_mode: NumaMode::Off, ..base.clone() },
    ] {
        assert!(bytes(cfg.clone()) == want, "{cfg:?}");
    }
}

#[test]
fn forced_placement_pins_every_worker_to_an_allowed_cpu() {
    let t = Topology::current();
    let g = Generator::new(Config { threads: 3, numa_mode: NumaMode::Force, ..Config::default() }).unwrap();
    let p = g.placement();
    // Workers are capped at the CPUs the process may use.
    assert_eq!(p.threads, 3.min(t.allowed.len()));
    assert_eq!(p.pinned.len(), p.threads);
    assert!(p.pinned.iter().all(|c| t.allowed.contains(c)));
    let g = Generator::new(Config { numa_mode: NumaMode::Off, ..Config::default() }).unwrap();
    assert!(g.placement().pinned.is_empty());
    assert_eq!(g.threads(), t.allowed.len());
}

#[test]
fn a_numa_node_that_does_not_exist_is_refused() {
    let e = Generator::new(Config { numa_node: Some(4000), ..Config::default() }).unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with("numa_node must be") && msg.ends_with("got 4000"), "{msg}");
}

/// A thread whose affinity mask was narrowed (as `taskset` or
/// `sched_setaffinity` would) gets a pool of that size by default.
#[test]
fn threads_zero_follows_a_narrowed_affinity_mask() {
    let t = Topology::current();
    if t.allowed.len() < 2 {
        return; // nothing to narrow on a one-CPU machine
    }
    let first = t.allowed[0];
    std::thread::spawn(move || {
        assert!(core_affinity::set_for_current(core_affinity::CoreId { id: first }));
        let g = Generator::new(Config::default()).unwrap();
        assert_eq!(g.threads(), 1);
        assert_eq!(Topology::current().allowed, vec![first]);
    })
    .join()
    .unwrap();
}
