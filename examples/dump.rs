fn main() {
    let a: Vec<String> = std::env::args().collect();
    let size: u64 = a[1].parse().unwrap();
    let c: f64 = a[2].parse().unwrap();
    let d: f64 = a.get(3).map(|x| x.parse().unwrap()).unwrap_or(1.0);
    let mut g = dgen::Generator::new(dgen::Config { size, compress_ratio: c, dedup_ratio: d, seed: Some(5), ..Default::default() }).unwrap();
    let mut buf = vec![0u8; size as usize];
    g.fill(&mut buf).unwrap();
    use std::io::Write;
    std::io::stdout().write_all(&buf).unwrap();
}
