fn main() {
    eprintln!("not built yet");
}
