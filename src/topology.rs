//! CPU and NUMA topology, and where a generator's worker threads run.
//!
//! Detection reads hwloc (cargo feature `hwloc`, needs libhwloc) or, by
//! default, Linux sysfs: `/sys/devices/system/node/node*/cpulist` for the
//! node of each CPU, `cpu*/topology/` for cores, and `Cpus_allowed_list` in
//! `/proc/self/status` for the CPUs this process may run on. Nothing here
//! changes a single output byte: placement only decides which CPUs work.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use crate::error::Error;

/// One logical CPU (hardware thread).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cpu {
    /// The operating system's CPU number.
    pub id: usize,
    /// NUMA node the CPU belongs to (0 on machines without NUMA information).
    pub node: u32,
    /// Physical core, unique across packages; hardware threads of one core share it.
    pub core: u64,
}

/// The machine as the library sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topology {
    /// Online CPUs, by id.
    pub cpus: Vec<Cpu>,
    /// CPUs this process may run on (its affinity mask), sorted.
    pub allowed: Vec<usize>,
    /// Where the information came from: "hwloc", "sysfs" or "fallback".
    pub source: &'static str,
}

/// Whether worker threads are placed by NUMA node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NumaMode {
    /// Pin workers across nodes only on machines with more than one node.
    #[default]
    Auto,
    /// Never pin; the operating system places threads.
    Off,
    /// Pin workers even on a single-node machine.
    Force,
}

/// Parses a Linux CPU list such as `0-3,8-11` or `5`.
pub fn parse_cpulist(text: &str) -> Result<Vec<usize>, String> {
    let mut out = BTreeSet::new();
    for part in text.trim().split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let num =
            |s: &str| s.trim().parse::<usize>().map_err(|_| format!("bad CPU list {text:?}: {s:?} is not a number"));
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (num(a)?, num(b)?);
                if a > b || b - a > 1 << 20 {
                    return Err(format!("bad CPU list {text:?}: range {part}"));
                }
                out.extend(a..=b);
            }
            None => {
                out.insert(num(part)?);
            }
        }
    }
    Ok(out.into_iter().collect())
}

fn read_trimmed(path: &Path) -> Option<String> {
    fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

/// Bytes of last-level (L3) cache that the CPUs `cpus` share among them,
/// from Linux sysfs under `sys` (`/sys/devices/system/cpu`): the sum over
/// the distinct L3 caches those CPUs sit on. `None` when sysfs says nothing
/// of an L3 (no Linux, a VM that hides it, a CPU without one).
pub fn l3_bytes(sys: &Path, cpus: &[usize]) -> Option<u64> {
    let mut seen = BTreeSet::new();
    let mut total = 0u64;
    for cpu in cpus {
        let Ok(dir) = fs::read_dir(sys.join(format!("cpu{cpu}/cache"))) else { continue };
        for index in dir.flatten().map(|e| e.path()) {
            if read_trimmed(&index.join("level")).as_deref() != Some("3") {
                continue;
            }
            let shared = read_trimmed(&index.join("shared_cpu_list")).unwrap_or_else(|| cpu.to_string());
            let size = read_trimmed(&index.join("size")).and_then(|s| parse_cache_size(&s));
            if let (Some(size), true) = (size, seen.insert(shared)) {
                total += size;
            }
        }
    }
    (total > 0).then_some(total)
}

/// A sysfs cache size such as `491520K` or `32M`, in bytes.
fn parse_cache_size(text: &str) -> Option<u64> {
    let (digits, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: u64 = digits.parse().ok()?;
    let scale = match unit.trim() {
        "" => 1,
        "K" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(scale)
}

/// The CPUs named by `Cpus_allowed_list` in a `/proc/<pid>/status` text.
pub fn allowed_from_status(status: &str) -> Option<Vec<usize>> {
    let line = status.lines().find_map(|l| l.strip_prefix("Cpus_allowed_list:"))?;
    parse_cpulist(line).ok()
}

impl Topology {
    /// The machine as [`detect`](Self::detect) saw it the first time, with the
    /// affinity mask of the calling thread read now (so a mask narrowed with
    /// `sched_setaffinity` counts).
    pub fn current() -> Topology {
        static MACHINE: std::sync::OnceLock<Topology> = std::sync::OnceLock::new();
        let mut t = MACHINE.get_or_init(Topology::detect).clone();
        if let Some(ids) = core_affinity::get_core_ids() {
            let mask: Vec<usize> =
                ids.into_iter().map(|c| c.id).filter(|id| t.cpus.iter().any(|c| c.id == *id)).collect();
            if !mask.is_empty() {
                t.allowed = mask;
                t.allowed.sort_unstable();
            }
        }
        t
    }

    /// The machine this process runs on: hwloc when the feature is built and
    /// works, else sysfs, else one node with every CPU the process may use.
    pub fn detect() -> Topology {
        #[cfg(feature = "hwloc")]
        if let Ok(t) = Topology::from_hwloc() {
            return t;
        }
        let status = fs::read_to_string("/proc/self/status").ok();
        Topology::from_sysfs(Path::new("/sys"), status.as_deref()).unwrap_or_else(|_| Topology::fallback())
    }

    /// One node, CPUs 0..n where n is what `available_parallelism` reports.
    pub fn fallback() -> Topology {
        let n = crate::generator::default_threads();
        Topology {
            cpus: (0..n).map(|id| Cpu { id, node: 0, core: id as u64 }).collect(),
            allowed: (0..n).collect(),
            source: "fallback",
        }
    }

    /// Reads a sysfs tree rooted at `sys` (normally `/sys`; tests pass fixture
    /// folders) and the text of `/proc/self/status` for the affinity mask (all
    /// online CPUs when `None` or when it has no `Cpus_allowed_list`).
    pub fn from_sysfs(sys: &Path, status: Option<&str>) -> Result<Topology, String> {
        let cpu_dir = sys.join("devices/system/cpu");
        let online = match read_trimmed(&cpu_dir.join("online")) {
            Some(list) => parse_cpulist(&list)?,
            None => {
                // No online list: every cpuN folder counts.
                let mut ids: Vec<usize> = fs::read_dir(&cpu_dir)
                    .map_err(|e| format!("{}: {e}", cpu_dir.display()))?
                    .filter_map(|e| e.ok()?.file_name().to_str()?.strip_prefix("cpu")?.parse().ok())
                    .collect();
                ids.sort_unstable();
                ids
            }
        };
        if online.is_empty() {
            return Err(format!("{}: no online CPU", cpu_dir.display()));
        }
        let mut node_of = std::collections::HashMap::new();
        let node_dir = sys.join("devices/system/node");
        if let Ok(entries) = fs::read_dir(&node_dir) {
            for e in entries.flatten() {
                let name = e.file_name();
                let Some(id) = name.to_str().and_then(|n| n.strip_prefix("node")).and_then(|n| n.parse::<u32>().ok())
                else {
                    continue;
                };
                if let Some(list) = read_trimmed(&e.path().join("cpulist")) {
                    for cpu in parse_cpulist(&list)? {
                        node_of.insert(cpu, id);
                    }
                }
            }
        }
        let cpus = online
            .iter()
            .map(|&id| {
                let topo = cpu_dir.join(format!("cpu{id}/topology"));
                let num = |f: &str| read_trimmed(&topo.join(f)).and_then(|s| s.parse::<i64>().ok());
                let core = match (num("physical_package_id"), num("core_id")) {
                    (Some(p), Some(c)) => ((p.max(0) as u64) << 32) | c.max(0) as u64,
                    _ => id as u64,
                };
                Cpu { id, node: node_of.get(&id).copied().unwrap_or(0), core }
            })
            .collect();
        let allowed = status
            .and_then(allowed_from_status)
            .map(|a| a.into_iter().filter(|c| online.contains(c)).collect::<Vec<_>>())
            .filter(|a| !a.is_empty())
            .unwrap_or_else(|| online.clone());
        Ok(Topology { cpus, allowed, source: "sysfs" })
    }

    /// Reads the topology through hwloc. NUMA nodes come from each PU's
    /// nodeset (hwloc 2 gives NUMA nodes a special negative depth, and asking
    /// for them by type panics in the `hwloc2` 2.2 bindings, so they are never
    /// asked for by type). Honours `HWLOC_SYNTHETIC` and friends.
    #[cfg(feature = "hwloc")]
    pub fn from_hwloc() -> Result<Topology, String> {
        use hwloc2::{ObjectType, Topology as Hw};
        let hw = Hw::new().ok_or("hwloc: cannot load the topology")?;
        let pus = hw.objects_with_type(&ObjectType::PU).map_err(|e| format!("hwloc: {e:?}"))?;
        let mut cpus = Vec::new();
        for pu in pus {
            let node = pu.nodeset().and_then(|s| s.into_iter().next()).unwrap_or(0);
            let mut core = u64::from(pu.os_index());
            let mut parent = pu.parent();
            while let Some(p) = parent {
                if p.object_type() == ObjectType::Core {
                    core = u64::from(p.logical_index());
                    break;
                }
                parent = p.parent();
            }
            cpus.push(Cpu { id: pu.os_index() as usize, node, core });
        }
        if cpus.is_empty() {
            return Err("hwloc: no processing unit".into());
        }
        cpus.sort_by_key(|c| c.id);
        let synthetic = std::env::var_os("HWLOC_SYNTHETIC").is_some();
        let status = fs::read_to_string("/proc/self/status").ok();
        let allowed = match status.as_deref().and_then(allowed_from_status) {
            // A synthetic topology's CPUs are not this machine's: all are allowed.
            Some(a) if !synthetic => a.into_iter().filter(|c| cpus.iter().any(|x| x.id == *c)).collect(),
            _ => cpus.iter().map(|c| c.id).collect(),
        };
        Ok(Topology { cpus, allowed, source: "hwloc" })
    }

    /// NUMA node ids, sorted.
    pub fn nodes(&self) -> Vec<u32> {
        self.cpus.iter().map(|c| c.node).collect::<BTreeSet<_>>().into_iter().collect()
    }

    /// CPUs of `node` that this process may run on.
    pub fn node_cpus(&self, node: u32) -> Vec<usize> {
        self.cpus.iter().filter(|c| c.node == node && self.allowed.contains(&c.id)).map(|c| c.id).collect()
    }

    /// Physical cores among the allowed CPUs.
    pub fn allowed_cores(&self) -> usize {
        self.cpus.iter().filter(|c| self.allowed.contains(&c.id)).map(|c| c.core).collect::<BTreeSet<_>>().len()
    }

    /// Where a generator with `threads` (0 = every usable CPU), `mode` and
    /// `node` (None = any) runs its workers. Workers are capped at the CPUs
    /// the process may use (those of `node` when one is chosen): more would
    /// only take turns on them.
    pub fn plan(&self, threads: usize, mode: NumaMode, node: Option<u32>) -> Result<Placement, Error> {
        let (cpus, pin) = match node {
            Some(n) => {
                let nodes = self.nodes();
                if !nodes.contains(&n) {
                    return Err(Error::InvalidConfig {
                        field: crate::Field::NumaNode,
                        value: n.to_string(),
                        expected: "must be a NUMA node of this machine (see `dgen topology`)",
                    });
                }
                let cpus = self.node_cpus(n);
                if cpus.is_empty() {
                    return Err(Error::InvalidConfig {
                        field: crate::Field::NumaNode,
                        value: n.to_string(),
                        expected: "must name a NUMA node with a CPU this process may run on",
                    });
                }
                (cpus, mode != NumaMode::Off)
            }
            None => {
                let pin = mode == NumaMode::Force || (mode == NumaMode::Auto && self.nodes().len() > 1);
                // Interleave nodes so that a pool smaller than the machine still
                // spreads over every node.
                let per_node: Vec<Vec<usize>> = self.nodes().into_iter().map(|n| self.node_cpus(n)).collect();
                let mut cpus = Vec::new();
                for i in 0..per_node.iter().map(Vec::len).max().unwrap_or(0) {
                    cpus.extend(per_node.iter().filter_map(|v| v.get(i)));
                }
                if cpus.is_empty() {
                    cpus = self.allowed.clone();
                }
                (cpus, pin)
            }
        };
        let threads = if threads == 0 { cpus.len() } else { threads.min(cpus.len()) }.max(1);
        let pinned = if pin { (0..threads).map(|i| cpus[i % cpus.len()]).collect() } else { Vec::new() };
        Ok(Placement { threads, node, pinned })
    }
}

impl Topology {
    /// The machine and a placement as JSON (what `dgen topology --json` and
    /// `dgen_topology` print).
    pub fn to_json(&self, placement: &Placement) -> String {
        let list = |v: &[usize]| v.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(",");
        let nodes = self
            .nodes()
            .into_iter()
            .map(|n| {
                let cpus: Vec<usize> = self.cpus.iter().filter(|c| c.node == n).map(|c| c.id).collect();
                format!("{{\"node\":{n},\"cpus\":[{}]}}", list(&cpus))
            })
            .collect::<Vec<_>>()
            .join(",");
        let node = placement.node.map_or("null".to_string(), |n| n.to_string());
        format!(
            "{{\"source\":\"{}\",\"nodes\":[{nodes}],\"allowed_cpus\":[{}],\"cores\":{},\"placement\":{{\"threads\":{},\"numa_node\":{node},\"pinned\":[{}]}}}}",
            self.source,
            list(&self.allowed),
            self.allowed_cores(),
            placement.threads,
            list(&placement.pinned)
        )
    }
}

/// Where a generator's worker threads run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    /// Worker threads for large fills.
    pub threads: usize,
    /// The NUMA node the workers are kept on, if one was chosen.
    pub node: Option<u32>,
    /// The CPU worker `i` is pinned to; empty when workers are not pinned.
    pub pinned: Vec<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn l3_is_summed_over_distinct_caches_of_the_cpus_given() {
        let root = std::env::temp_dir().join(format!("dgen-l3-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        // CPUs 0-1 share one 32 MiB L3, CPU 2 has its own of 8192K; CPU 3 has
        // only an L2.
        for (cpu, level, size, shared) in
            [(0, 3, "32M", "0-1"), (1, 3, "32M", "0-1"), (2, 3, "8192K", "2"), (3, 2, "1024K", "3")]
        {
            let dir = root.join(format!("cpu{cpu}/cache/index3"));
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join("level"), format!("{level}\n")).unwrap();
            fs::write(dir.join("size"), format!("{size}\n")).unwrap();
            fs::write(dir.join("shared_cpu_list"), format!("{shared}\n")).unwrap();
        }
        assert_eq!(l3_bytes(&root, &[0, 1]), Some(32 << 20));
        assert_eq!(l3_bytes(&root, &[0, 1, 2]), Some((32 << 20) + (8 << 20)));
        assert_eq!(l3_bytes(&root, &[3]), None);
        assert_eq!(l3_bytes(&root, &[9]), None);
        assert_eq!(parse_cache_size("491520K"), Some(480 << 20));
        assert_eq!(parse_cache_size("12Q"), None);
        let _ = fs::remove_dir_all(&root);
    }

    /// Writes a sysfs-like tree: `nodes` maps node id to cpulist text; CPUs
    /// get core ids `cpu / threads_per_core`.
    fn fixture(name: &str, online: &str, nodes: &[(u32, &str)], threads_per_core: usize) -> PathBuf {
        let root = std::env::temp_dir().join(format!("dgen-sysfs-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let cpu = root.join("devices/system/cpu");
        fs::create_dir_all(&cpu).unwrap();
        fs::write(cpu.join("online"), format!("{online}\n")).unwrap();
        for id in parse_cpulist(online).unwrap() {
            let t = cpu.join(format!("cpu{id}/topology"));
            fs::create_dir_all(&t).unwrap();
            fs::write(t.join("core_id"), format!("{}\n", id / threads_per_core)).unwrap();
            fs::write(t.join("physical_package_id"), "0\n").unwrap();
        }
        for (n, list) in nodes {
            let d = root.join(format!("devices/system/node/node{n}"));
            fs::create_dir_all(&d).unwrap();
            fs::write(d.join("cpulist"), format!("{list}\n")).unwrap();
        }
        root
    }

    #[test]
    fn cpulists_parse_with_ranges_gaps_and_junk() {
        assert_eq!(parse_cpulist("0-3,8-11").unwrap(), vec![0, 1, 2, 3, 8, 9, 10, 11]);
        assert_eq!(parse_cpulist("5\n").unwrap(), vec![5]);
        assert_eq!(parse_cpulist("").unwrap(), Vec::<usize>::new());
        assert!(parse_cpulist("0-x").is_err());
        assert!(parse_cpulist("3-1").is_err());
        assert_eq!(allowed_from_status("Name:\tx\nCpus_allowed_list:\t0-1,4\n"), Some(vec![0, 1, 4]));
    }

    #[test]
    fn one_two_and_four_node_layouts() {
        let one = Topology::from_sysfs(&fixture("one", "0-7", &[(0, "0-7")], 2), None).unwrap();
        assert_eq!(one.nodes(), vec![0]);
        assert_eq!(one.allowed_cores(), 4);
        let p = one.plan(0, NumaMode::Auto, None).unwrap();
        assert_eq!((p.threads, p.pinned.len()), (8, 0), "single node, auto: not pinned");
        assert_eq!(one.plan(0, NumaMode::Force, None).unwrap().pinned.len(), 8);
        let p = one.plan(4096, NumaMode::Force, None).unwrap();
        assert_eq!((p.threads, p.pinned.len()), (8, 8), "workers are capped at the allowed CPUs");

        let two = Topology::from_sysfs(&fixture("two", "0-15", &[(0, "0-7"), (1, "8-15")], 2), None).unwrap();
        assert_eq!(two.nodes(), vec![0, 1]);
        let p = two.plan(4, NumaMode::Auto, None).unwrap();
        assert_eq!(p.pinned, vec![0, 8, 1, 9], "a small pool spreads over both nodes");
        let p = two.plan(0, NumaMode::Auto, Some(1)).unwrap();
        assert_eq!((p.threads, p.node), (8, Some(1)));
        assert!(p.pinned.iter().all(|c| (8..16).contains(c)));
        assert!(two.plan(0, NumaMode::Off, Some(1)).unwrap().pinned.is_empty());
        assert_eq!(two.plan(100, NumaMode::Auto, Some(1)).unwrap().threads, 8, "capped at the node's CPUs");

        // Four nodes with gaps in the CPU numbering and offline CPUs (12-13).
        let four = Topology::from_sysfs(
            &fixture("four", "0-11,14-17", &[(0, "0-3"), (1, "4-7"), (2, "8-11"), (3, "14-17")], 1),
            Some("Cpus_allowed_list:\t0-5,8,14-15\n"),
        )
        .unwrap();
        assert_eq!(four.nodes(), vec![0, 1, 2, 3]);
        assert_eq!(four.allowed, vec![0, 1, 2, 3, 4, 5, 8, 14, 15]);
        assert_eq!(four.node_cpus(1), vec![4, 5]);
        assert_eq!(four.node_cpus(3), vec![14, 15]);
        let p = four.plan(0, NumaMode::Auto, None).unwrap();
        assert_eq!(p.threads, 9);
        assert_eq!(&p.pinned[..4], &[0, 4, 8, 14]);
    }

    #[test]
    fn a_node_that_does_not_exist_is_a_clear_error() {
        let two = Topology::from_sysfs(
            &fixture("missing", "0-3", &[(0, "0-1"), (1, "2-3")], 1),
            Some("Cpus_allowed_list:\t0-1\n"),
        )
        .unwrap();
        let e = two.plan(0, NumaMode::Auto, Some(7)).unwrap_err();
        assert!(e.to_string().starts_with("numa_node must be"), "{e}");
        assert!(e.to_string().ends_with("got 7"), "{e}");
        // Node 1 exists but the affinity mask leaves it no CPU.
        let e = two.plan(0, NumaMode::Auto, Some(1)).unwrap_err();
        assert!(e.to_string().contains("numa_node"), "{e}");
    }

    #[test]
    fn missing_node_folder_means_one_node() {
        let t = Topology::from_sysfs(&fixture("nonode", "0-3", &[], 1), None).unwrap();
        assert_eq!(t.nodes(), vec![0]);
        assert_eq!(t.allowed, vec![0, 1, 2, 3]);
    }

    #[test]
    fn this_machine_is_detected() {
        let t = Topology::detect();
        assert!(!t.cpus.is_empty() && !t.allowed.is_empty());
        assert!(t.allowed.iter().all(|c| t.cpus.iter().any(|x| x.id == *c)));
    }
}
