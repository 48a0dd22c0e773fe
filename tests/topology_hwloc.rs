//! hwloc synthetic topologies (only with `--features hwloc`). Its own test
//! binary, because HWLOC_SYNTHETIC is read from the environment.
#![cfg(feature = "hwloc")]

use dgen::{NumaMode, Topology};

#[test]
fn two_packages_with_one_numa_node_each() {
    // SAFETY of set_var: this binary runs this one test, before any other thread reads the environment.
    std::env::set_var("HWLOC_SYNTHETIC", "pack:2 numa:1 core:4 pu:2");
    // Asking hwloc2 for NUMANode objects by type panics with hwloc 2.x; the
    // node map must come from nodesets, so this would fail on that path.
    let t = Topology::from_hwloc().expect("hwloc loads a synthetic topology");
    std::env::remove_var("HWLOC_SYNTHETIC");
    assert_eq!(t.source, "hwloc");
    assert_eq!(t.cpus.len(), 16);
    assert_eq!(t.nodes(), vec![0, 1]);
    assert_eq!(t.node_cpus(0).len(), 8);
    assert_eq!(t.node_cpus(1).len(), 8);
    assert_eq!(t.allowed_cores(), 8, "two hardware threads per core");
    let p = t.plan(4, NumaMode::Auto, None).unwrap();
    let nodes_used: std::collections::BTreeSet<u32> =
        p.pinned.iter().map(|c| t.cpus.iter().find(|x| x.id == *c).unwrap().node).collect();
    assert_eq!(nodes_used.len(), 2, "a pool spreads over both nodes: {p:?}");
    let p = t.plan(0, NumaMode::Auto, Some(1)).unwrap();
    assert_eq!(p.threads, 8);
    assert!(t.plan(0, NumaMode::Auto, Some(2)).is_err());
}
